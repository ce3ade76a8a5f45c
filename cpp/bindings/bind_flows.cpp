// SGLD, Langevin and the constrained flow: thin constructors; validation lives in the core. Apart from
// bind_dynamics.cpp so that the two compile in parallel, each with its own heavy headers.
#include <pybind11/stl.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "escapade/dynamics/constrained_flow.hpp"
#include "escapade/dynamics/langevin.hpp"
#include "escapade/dynamics/sgld.hpp"
#include "dynamics_glue.hpp"
#include "numpy.hpp"

using namespace escapade;
using namespace escapade::py_glue;
using namespace pybind11::literals;

void bind_flows(py::module_& m) {
  py::class_<SGLD, Dynamics, std::shared_ptr<SGLD>>(m, "SGLD")
      .def(py::init<double, double, bool, double, int, bool>(), py::kw_only(), "A"_a, "B"_a, "annealed"_a, "t0"_a,
           "batch_size"_a, "replace"_a)
      .def("alpha", &SGLD::alpha, "t"_a)
      .def("beta", &SGLD::beta, "t"_a);
  py::class_<Langevin, Dynamics, std::shared_ptr<Langevin>>(m, "Langevin")
      .def(py::init<double, double, bool>(), py::kw_only(), "temperature"_a, "dt"_a, "heun"_a = false)
      .def(py::init([](const DoubleArray& S, double eps, double dt, bool heun) {
             return std::make_shared<Langevin>(to_matrix(S, "S"), eps, dt, heun);
           }),
           py::kw_only(), "S"_a, "eps"_a, "dt"_a, "heun"_a = false)
      .def(py::init([](const std::string& noise, double eps, double dt) {
             return std::make_shared<Langevin>(noise_kind(noise, "S"), eps, dt);
           }),
           py::kw_only(), "noise"_a, "eps"_a, "dt"_a)
      .def_property_readonly("heun", &Langevin::heun);
  py::enum_<ConstrainedFlow::Method>(m, "FlowMethod")
      .value("EULER", ConstrainedFlow::Method::Euler)
      .value("RK4", ConstrainedFlow::Method::RK4)
      .value("DP54", ConstrainedFlow::Method::DP54);
  py::class_<ConstrainedFlow, Dynamics, std::shared_ptr<ConstrainedFlow>>(m, "ConstrainedFlow")
      .def(py::init<std::shared_ptr<const Constraint>, double, std::shared_ptr<const Forcing>, ConstrainedFlow::Method,
                    double, double, double, double, double, double, double>(),
           py::kw_only(), "constraint"_a.none(true), "alpha"_a, "forcing"_a.none(true), "method"_a, "dt"_a,
           "noise"_a = 0.0, "rtol"_a = 1e-6, "atol"_a = 1e-9, "singular_tol"_a = 1e-12, "event_tol"_a = 1e-9,
           "max_step"_a = std::numeric_limits<double>::infinity())
      .def(
          "drift",
          [](const ConstrainedFlow& flow, const Landscape& f, const DoubleArray& x, const DoubleArray& t,
             std::uint64_t seed, std::uint64_t path) {
            const int d = f.dim();
            flow.check_dim(d);
            const Matrix P = points_of(x, d, "x");
            const int n = static_cast<int>(P.cols());
            if (t.ndim() != 1 || t.shape(0) != n) throw std::invalid_argument("t must have one time per point");
            std::vector<double> u(static_cast<std::size_t>(n) * d);
            std::vector<std::uint8_t> singular(static_cast<std::size_t>(n), 0);
            std::vector<std::uint64_t> paths(static_cast<std::size_t>(n), path);
            flow.drift(f, P.data(), t.data(), paths.data(), seed, n, u.data(), singular.data());
            for (int l = 0; l < n; ++l)
              if (singular[static_cast<std::size_t>(l)])
                for (int i = 0; i < d; ++i) u[static_cast<std::size_t>(l) * d + i] = std::numeric_limits<double>::quiet_NaN();
            return to_numpy(std::move(u), {n, d});
          },
          "landscape"_a, "x"_a, "t"_a, "seed"_a = 0, "path"_a = 0,
          "U_alpha(x) + w(t) at each row of x (n, d) and time t (n,); NaN rows where J J^T is singular.");
}
