// lkmrun-cxx: lkmrun for programs linked with -l stdc++ (lkmrun hands them over): loads
// libstdc++.so.6 and holds copies of its writable data objects (CLkmrunHostCxx), within reach
// of modules mapped low, as it holds copies of the C library's.
import CLkmrunHostCxx
import LkmRunner

_ = lkmrun_host_cxx_data_count()
LkmRun.main(.lkmrunCxx)
