#include <Python.h>
int main(void) {
  Py_Initialize();
  PyRun_SimpleString("import sys\nprint(sum(range(101)), sys.version_info[:2])\nprint(sorted({'b':1,'a':2}.items()))\n");
  Py_Finalize();
  return 0;
}
