// Drifts that are not gradients, state-dependent noise factors and the general SDE: thin constructors;
// validation lives in the core.
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "escapade/drift.hpp"
#include "escapade/dynamics/levy_langevin.hpp"
#include "escapade/dynamics/sde.hpp"
#include "numpy.hpp"

using namespace escapade;
using namespace escapade::py_glue;
using namespace pybind11::literals;

void bind_drift(py::module_& m) {
  py::class_<RampForcing, Forcing, std::shared_ptr<RampForcing>>(m, "RampForcing")
      .def(py::init([](const DoubleArray& start, const DoubleArray& rate) {
             return std::make_shared<RampForcing>(to_vector(start, "start"), to_vector(rate, "rate"));
           }),
           py::kw_only(), "start"_a, "rate"_a);
  py::class_<DriftField, Landscape, std::shared_ptr<DriftField>>(m, "DriftField")
      .def_property_readonly("time_dependent", &DriftField::time_dependent)
      .def(
          "field",
          [](const DriftField& b, const DoubleArray& x, const DoubleArray& t) {
            const int d = b.dim();
            const Matrix P = points_of(x, d, "x");
            const int n = static_cast<int>(P.cols());
            if (t.ndim() != 1 || t.shape(0) != n) throw std::invalid_argument("t must have one time per point");
            std::vector<double> out(static_cast<std::size_t>(n) * d);
            b.field(P.data(), t.data(), out.data(), n);
            return to_numpy(std::move(out), {n, d});
          },
          "x"_a, "t"_a, "b(x, t) at each row of x (n, d) and time t (n,); returns (n, d).");
  py::class_<LinearDrift, DriftField, std::shared_ptr<LinearDrift>>(m, "LinearDrift")
      .def(py::init([](const DoubleArray& A, const DoubleArray& center) {
             return std::make_shared<LinearDrift>(to_matrix(A, "A"), to_vector(center, "center"));
           }),
           py::kw_only(), "A"_a, "center"_a);
  py::class_<TiltedPeriodicDrift, DriftField, std::shared_ptr<TiltedPeriodicDrift>>(m, "TiltedPeriodicDrift")
      .def(py::init([](const DoubleArray& force, double barrier, double period) {
             return std::make_shared<TiltedPeriodicDrift>(to_vector(force, "force"), barrier, period);
           }),
           py::kw_only(), "force"_a, "barrier"_a, "period"_a);
  py::class_<DiffusionField, std::shared_ptr<DiffusionField>>(m, "DiffusionField")
      .def_property_readonly("dim", &DiffusionField::dim)
      .def("noise_dim", &DiffusionField::noise_dim, "d"_a)
      .def(
          "factor",
          [](const DiffusionField& S, const DoubleArray& x) {
            if (x.ndim() != 2) throw std::invalid_argument("x must be an (n, d) array");
            const int d = static_cast<int>(x.shape(1)), k = S.noise_dim(d);
            if (S.dim() > 0 && S.dim() != d)
              throw std::invalid_argument("x must have " + std::to_string(S.dim()) + " columns");
            const Matrix P = points_of(x, d, "x");
            const int n = static_cast<int>(P.cols());
            std::vector<double> out(static_cast<std::size_t>(n) * d * k);
            S.factor(P.data(), out.data(), d, n);
            return to_numpy(std::move(out), {n, d, k});
          },
          "x"_a, "S(x) at each row of x (n, d); returns (n, d, k).");
  // The forcing as an object (None: no forcing).
  auto forcing_of = [](const py::object& w) -> std::shared_ptr<const Forcing> {
    if (w.is_none()) return nullptr;
    return w.cast<std::shared_ptr<Forcing>>();
  };
  // LevyLangevin with a forcing (the class is bound with the other dynamics).
  m.def(
      "forced_levy_langevin",
      [forcing_of](double alpha, double scale, double dt, const py::object& forcing) {
        return std::static_pointer_cast<Dynamics>(std::make_shared<LevyLangevin>(alpha, scale, dt, forcing_of(forcing)));
      },
      py::kw_only(), "alpha"_a, "scale"_a, "dt"_a, "forcing"_a);
  py::class_<SDE, Dynamics, std::shared_ptr<SDE>>(m, "SDE")
      .def(py::init([forcing_of](const py::object& forcing, double temperature, double dt) {
             return std::make_shared<SDE>(forcing_of(forcing), temperature, dt);
           }),
           py::kw_only(), "forcing"_a, "temperature"_a, "dt"_a)
      .def(py::init([forcing_of](const py::object& forcing, const DoubleArray& S, double eps, double dt) {
             return std::make_shared<SDE>(forcing_of(forcing), to_matrix(S, "S"), eps, dt);
           }),
           py::kw_only(), "forcing"_a, "S"_a, "eps"_a, "dt"_a)
      .def(py::init([forcing_of](const py::object& forcing, std::shared_ptr<DiffusionField> field, double eps,
                                 bool ito_correction, double dt) {
             return std::make_shared<SDE>(forcing_of(forcing), std::move(field), eps, ito_correction, dt);
           }),
           py::kw_only(), "forcing"_a, "field"_a, "eps"_a, "ito_correction"_a, "dt"_a)
      .def(
          "drift",
          [](const SDE& sde, const Landscape& f, const DoubleArray& x, const DoubleArray& t, std::uint64_t seed,
             std::uint64_t path) {
            const int d = f.dim();
            sde.check_dim(d);
            const Matrix P = points_of(x, d, "x");
            const int n = static_cast<int>(P.cols());
            if (t.ndim() != 1 || t.shape(0) != n) throw std::invalid_argument("t must have one time per point");
            std::vector<double> u(static_cast<std::size_t>(n) * d);
            std::vector<std::uint64_t> paths(static_cast<std::size_t>(n), path);
            sde.drift(f, P.data(), t.data(), paths.data(), seed, n, u.data());
            return to_numpy(std::move(u), {n, d});
          },
          "landscape"_a, "x"_a, "t"_a, "seed"_a = 0, "path"_a = 0,
          "b(x, t) + w(t) at each row of x (n, d) and time t (n,) (without the Ito correction).");
}
