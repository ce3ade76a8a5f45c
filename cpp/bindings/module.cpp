#include <pybind11/pybind11.h>

namespace py = pybind11;

void bind_random(py::module_& m);
void bind_problem(py::module_& m);
void bind_engine(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "escapade's compiled core: landscapes, dynamics, regions, starting points and the ensemble engine.";
  m.attr("__version__") = ESCAPADE_VERSION;
  bind_random(m);
  bind_problem(m);
  bind_engine(m);
}
