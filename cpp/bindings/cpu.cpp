// escapade._cpu: the x86-64 levels this CPU and its operating system run, asked by escapade/_core.py before it
// imports one level of a portable build. Plain C API and baseline flags, so that it loads on any x86-64 machine.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

namespace {

PyObject* levels(PyObject*, PyObject*) {
  PyObject* out = PyList_New(0);
  if (out == nullptr) return nullptr;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  // The levels' definitions (psABI): v2 adds SSE4.2 and POPCNT, v3 AVX2, FMA, BMI1/2, v4 AVX-512 F/BW/CD/DQ/VL;
  // the checks include the operating system's support of the wider registers.
  const bool v2 = __builtin_cpu_supports("x86-64-v2");
  const bool v3 = v2 && __builtin_cpu_supports("x86-64-v3");
  const bool v4 = v3 && __builtin_cpu_supports("x86-64-v4");
  const char* names[] = {"x86-64-v4", "x86-64-v3", "x86-64-v2"};
  const bool have[] = {v4, v3, v2};
  for (int i = 0; i < 3; ++i) {
    if (!have[i]) continue;
    PyObject* name = PyUnicode_FromString(names[i]);
    if (name == nullptr || PyList_Append(out, name) != 0) {
      Py_XDECREF(name);
      Py_DECREF(out);
      return nullptr;
    }
    Py_DECREF(name);
  }
#endif
  return out;
}

PyMethodDef methods[] = {
    {"levels", levels, METH_NOARGS, "The x86-64 levels this CPU runs, best first (empty off x86-64)."},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef module = {PyModuleDef_HEAD_INIT, "_cpu", "Which instruction sets this CPU runs.", -1, methods,
                      nullptr, nullptr, nullptr, nullptr};

}  // namespace

PyMODINIT_FUNC PyInit__cpu() { return PyModule_Create(&module); }
