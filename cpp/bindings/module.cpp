#include <pybind11/pybind11.h>

#include <Eigen/Core>
#include <string>

namespace py = pybind11;

void bind_random(py::module_& m);
void bind_landscapes(py::module_& m);
void bind_constraints(py::module_& m);
void bind_forcing(py::module_& m);
void bind_drift(py::module_& m);
void bind_dynamics(py::module_& m);
void bind_flows(py::module_& m);
void bind_regions(py::module_& m);
void bind_starts(py::module_& m);
void bind_callbacks(py::module_& m);
void bind_engine(py::module_& m);
void bind_scores(py::module_& m);
void bind_splitting(py::module_& m);

// The module's name: _core, or _core_<level> for one instruction-set level of a portable build (ESCAPADE_PORTABLE),
// which escapade/_core.py picks at import.
#ifndef ESCAPADE_MODULE
#define ESCAPADE_MODULE _core
#endif
#ifndef ESCAPADE_ISA
#define ESCAPADE_ISA "native"
#endif

PYBIND11_MODULE(ESCAPADE_MODULE, m) {
  // Every level of a portable build registers its classes and functions as escapade._core's, the name the package
  // imports and pickles them under; the module keeps its own name.
  const py::object own_name = m.attr("__name__");
  m.attr("__name__") = "escapade._core";
  m.doc() = "escapade's compiled core: landscapes, dynamics, regions, starting points and the ensemble engine.";
  m.attr("__version__") = ESCAPADE_VERSION;
  m.def("build_info", [] {
    py::dict info;
    info["compiler"] = std::string(
#if defined(__clang__)
        "clang "
#elif defined(__GNUC__)
        "gcc "
#endif
        __VERSION__);
    info["eigen"] = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
                    std::to_string(EIGEN_MINOR_VERSION);
    info["openmp"] = _OPENMP;
    info["native"] = ESCAPADE_NATIVE_BUILD != 0;
    // The instruction set the kernels were compiled for: "native" (-march=native) or an x86-64 level of the
    // portable build (x86-64-v2, -v3, -v4), the best one this CPU runs.
    info["isa"] = ESCAPADE_ISA;
#if defined(__AVX512F__)
    info["simd"] = "avx512";
#elif defined(__AVX2__)
    info["simd"] = "avx2";
#else
    info["simd"] = "baseline";
#endif
    info["flags"] = ESCAPADE_CXX_FLAGS;
    return info;
  }, "Compiler, flags and libraries this build of the core used.");
  bind_random(m);
  // Each type before the signatures that name it: the constrained flow takes a constraint and a forcing.
  bind_landscapes(m);
  bind_constraints(m);
  bind_forcing(m);
  bind_dynamics(m);
  bind_drift(m);
  bind_flows(m);
  bind_regions(m);
  bind_starts(m);
  bind_callbacks(m);
  bind_engine(m);
  bind_scores(m);
  bind_splitting(m);
  m.attr("__name__") = own_name;
}
