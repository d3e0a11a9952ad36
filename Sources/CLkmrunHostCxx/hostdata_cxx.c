/* lkmrun-cxx's copies of libstdc++'s data objects: lkmrun-cxx is the lkmrun that runs programs
 * linked with -l stdc++ (lkmrun itself links libstdc++ statically, for its own runtime, and
 * hands such runs over to lkmrun-cxx). */
#include "lkmrun_host.h"
#include "lkmrun_host_cxx.h"

/* libstdc++'s writable data objects (the iostreams, the locale facets' ids, the atoms num_get
 * and money_get read): a default-PIE C++ program names them PC-relatively beside stdout, so
 * they must be where lkmrun's copy of stdout is (nm -D --defined-only libstdc++.so.6, types B,
 * D and u, without guard variables and thread-local ones). */
int lkmrun_host_cxx_data_count(void) {
  LKMRUN_REFERENCE(_ZNSbIwSt11char_traitsIwESaIwEE4_Rep11_S_max_sizeE);
  LKMRUN_REFERENCE(_ZNSbIwSt11char_traitsIwESaIwEE4_Rep11_S_terminalE);
  LKMRUN_REFERENCE(_ZNSbIwSt11char_traitsIwESaIwEE4_Rep20_S_empty_rep_storageE);
  LKMRUN_REFERENCE(_ZNSbIwSt11char_traitsIwESaIwEE4nposE);
  LKMRUN_REFERENCE(_ZNSs4_Rep11_S_max_sizeE);
  LKMRUN_REFERENCE(_ZNSs4_Rep11_S_terminalE);
  LKMRUN_REFERENCE(_ZNSs4_Rep20_S_empty_rep_storageE);
  LKMRUN_REFERENCE(_ZNSs4nposE);
  LKMRUN_REFERENCE(_ZNSt10__num_base11_S_atoms_inE);
  LKMRUN_REFERENCE(_ZNSt10__num_base12_S_atoms_outE);
  LKMRUN_REFERENCE(_ZNSt10money_base8_S_atomsE);
  LKMRUN_REFERENCE(_ZNSt10moneypunctIcLb0EE2idE);
  LKMRUN_REFERENCE(_ZNSt10moneypunctIcLb0EE4intlE);
  LKMRUN_REFERENCE(_ZNSt10moneypunctIcLb1EE2idE);
  LKMRUN_REFERENCE(_ZNSt10moneypunctIcLb1EE4intlE);
  LKMRUN_REFERENCE(_ZNSt10moneypunctIwLb0EE2idE);
  LKMRUN_REFERENCE(_ZNSt10moneypunctIwLb0EE4intlE);
  LKMRUN_REFERENCE(_ZNSt10moneypunctIwLb1EE2idE);
  LKMRUN_REFERENCE(_ZNSt10moneypunctIwLb1EE4intlE);
  LKMRUN_REFERENCE(_ZNSt11__timepunctIcE2idE);
  LKMRUN_REFERENCE(_ZNSt11__timepunctIwE2idE);
  LKMRUN_REFERENCE(_ZNSt17__timepunct_cacheIcE12_S_timezonesE);
  LKMRUN_REFERENCE(_ZNSt17__timepunct_cacheIwE12_S_timezonesE);
  LKMRUN_REFERENCE(_ZNSt17moneypunct_bynameIcLb0EE4intlE);
  LKMRUN_REFERENCE(_ZNSt17moneypunct_bynameIcLb1EE4intlE);
  LKMRUN_REFERENCE(_ZNSt17moneypunct_bynameIwLb0EE4intlE);
  LKMRUN_REFERENCE(_ZNSt17moneypunct_bynameIwLb1EE4intlE);
  LKMRUN_REFERENCE(_ZNSt5ctypeIcE2idE);
  LKMRUN_REFERENCE(_ZNSt5ctypeIwE2idE);
  LKMRUN_REFERENCE(_ZNSt7__cxx1110moneypunctIcLb0EE2idE);
  LKMRUN_REFERENCE(_ZNSt7__cxx1110moneypunctIcLb0EE4intlE);
  LKMRUN_REFERENCE(_ZNSt7__cxx1110moneypunctIcLb1EE2idE);
  LKMRUN_REFERENCE(_ZNSt7__cxx1110moneypunctIcLb1EE4intlE);
  LKMRUN_REFERENCE(_ZNSt7__cxx1110moneypunctIwLb0EE2idE);
  LKMRUN_REFERENCE(_ZNSt7__cxx1110moneypunctIwLb0EE4intlE);
  LKMRUN_REFERENCE(_ZNSt7__cxx1110moneypunctIwLb1EE2idE);
  LKMRUN_REFERENCE(_ZNSt7__cxx1110moneypunctIwLb1EE4intlE);
  LKMRUN_REFERENCE(_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE4nposE);
  LKMRUN_REFERENCE(_ZNSt7__cxx1112basic_stringIwSt11char_traitsIwESaIwEE4nposE);
  LKMRUN_REFERENCE(_ZNSt7__cxx1117moneypunct_bynameIcLb0EE4intlE);
  LKMRUN_REFERENCE(_ZNSt7__cxx1117moneypunct_bynameIcLb1EE4intlE);
  LKMRUN_REFERENCE(_ZNSt7__cxx1117moneypunct_bynameIwLb0EE4intlE);
  LKMRUN_REFERENCE(_ZNSt7__cxx1117moneypunct_bynameIwLb1EE4intlE);
  LKMRUN_REFERENCE(_ZNSt7__cxx117collateIcE2idE);
  LKMRUN_REFERENCE(_ZNSt7__cxx117collateIwE2idE);
  LKMRUN_REFERENCE(_ZNSt7__cxx118messagesIcE2idE);
  LKMRUN_REFERENCE(_ZNSt7__cxx118messagesIwE2idE);
  LKMRUN_REFERENCE(_ZNSt7__cxx118numpunctIcE2idE);
  LKMRUN_REFERENCE(_ZNSt7__cxx118numpunctIwE2idE);
  LKMRUN_REFERENCE(_ZNSt7__cxx118time_getIcSt19istreambuf_iteratorIcSt11char_traitsIcEEE2idE);
  LKMRUN_REFERENCE(_ZNSt7__cxx118time_getIwSt19istreambuf_iteratorIwSt11char_traitsIwEEE2idE);
  LKMRUN_REFERENCE(_ZNSt7__cxx119money_getIcSt19istreambuf_iteratorIcSt11char_traitsIcEEE2idE);
  LKMRUN_REFERENCE(_ZNSt7__cxx119money_getIwSt19istreambuf_iteratorIwSt11char_traitsIwEEE2idE);
  LKMRUN_REFERENCE(_ZNSt7__cxx119money_putIcSt19ostreambuf_iteratorIcSt11char_traitsIcEEE2idE);
  LKMRUN_REFERENCE(_ZNSt7__cxx119money_putIwSt19ostreambuf_iteratorIwSt11char_traitsIwEEE2idE);
  LKMRUN_REFERENCE(_ZNSt7codecvtIDiDu11__mbstate_tE2idE);
  LKMRUN_REFERENCE(_ZNSt7codecvtIDic11__mbstate_tE2idE);
  LKMRUN_REFERENCE(_ZNSt7codecvtIDsDu11__mbstate_tE2idE);
  LKMRUN_REFERENCE(_ZNSt7codecvtIDsc11__mbstate_tE2idE);
  LKMRUN_REFERENCE(_ZNSt7codecvtIcc11__mbstate_tE2idE);
  LKMRUN_REFERENCE(_ZNSt7codecvtIwc11__mbstate_tE2idE);
  LKMRUN_REFERENCE(_ZNSt7collateIcE2idE);
  LKMRUN_REFERENCE(_ZNSt7collateIwE2idE);
  LKMRUN_REFERENCE(_ZNSt7num_getIcSt19istreambuf_iteratorIcSt11char_traitsIcEEE2idE);
  LKMRUN_REFERENCE(_ZNSt7num_getIwSt19istreambuf_iteratorIwSt11char_traitsIwEEE2idE);
  LKMRUN_REFERENCE(_ZNSt7num_putIcSt19ostreambuf_iteratorIcSt11char_traitsIcEEE2idE);
  LKMRUN_REFERENCE(_ZNSt7num_putIwSt19ostreambuf_iteratorIwSt11char_traitsIwEEE2idE);
  LKMRUN_REFERENCE(_ZNSt8messagesIcE2idE);
  LKMRUN_REFERENCE(_ZNSt8messagesIwE2idE);
  LKMRUN_REFERENCE(_ZNSt8numpunctIcE2idE);
  LKMRUN_REFERENCE(_ZNSt8numpunctIwE2idE);
  LKMRUN_REFERENCE(_ZNSt8time_getIcSt19istreambuf_iteratorIcSt11char_traitsIcEEE2idE);
  LKMRUN_REFERENCE(_ZNSt8time_getIwSt19istreambuf_iteratorIwSt11char_traitsIwEEE2idE);
  LKMRUN_REFERENCE(_ZNSt8time_putIcSt19ostreambuf_iteratorIcSt11char_traitsIcEEE2idE);
  LKMRUN_REFERENCE(_ZNSt8time_putIwSt19ostreambuf_iteratorIwSt11char_traitsIwEEE2idE);
  LKMRUN_REFERENCE(_ZNSt9money_getIcSt19istreambuf_iteratorIcSt11char_traitsIcEEE2idE);
  LKMRUN_REFERENCE(_ZNSt9money_getIwSt19istreambuf_iteratorIwSt11char_traitsIwEEE2idE);
  LKMRUN_REFERENCE(_ZNSt9money_putIcSt19ostreambuf_iteratorIcSt11char_traitsIcEEE2idE);
  LKMRUN_REFERENCE(_ZNSt9money_putIwSt19ostreambuf_iteratorIwSt11char_traitsIwEEE2idE);
  LKMRUN_REFERENCE(_ZSt10adopt_lock);
  LKMRUN_REFERENCE(_ZSt10defer_lock);
  LKMRUN_REFERENCE(_ZSt11try_to_lock);
  LKMRUN_REFERENCE(_ZSt15future_category);
  LKMRUN_REFERENCE(_ZSt3cin);
  LKMRUN_REFERENCE(_ZSt4cerr);
  LKMRUN_REFERENCE(_ZSt4clog);
  LKMRUN_REFERENCE(_ZSt4cout);
  LKMRUN_REFERENCE(_ZSt4wcin);
  LKMRUN_REFERENCE(_ZSt5wcerr);
  LKMRUN_REFERENCE(_ZSt5wclog);
  LKMRUN_REFERENCE(_ZSt5wcout);
  return 91;
}
