// Equality constraints, forcings, the Ackley landscape and the constrained flow (000).
#include <pybind11/stl.h>

#include <memory>

#include "escapade/constraint.hpp"
#include "escapade/dynamics/constrained_flow.hpp"
#include "escapade/forcing.hpp"
#include "escapade/landscapes/ackley.hpp"
#include "numpy.hpp"

using namespace escapade;
using namespace escapade::py_glue;
using namespace pybind11::literals;

namespace {

Matrix rows_of(const DoubleArray& x, int d) {
  if (x.ndim() == 1 && x.shape(0) == d) return Eigen::Map<const Vector>(x.data(), d);
  if (x.ndim() == 2 && x.shape(1) == d) return Eigen::Map<const Matrix>(x.data(), d, x.shape(0));
  throw std::invalid_argument("x must have shape (" + std::to_string(d) + ",) or (n, " + std::to_string(d) + ")");
}

void bind_constraints(py::module_& m) {
  py::class_<Constraint, std::shared_ptr<Constraint>>(m, "Constraint")
      .def_property_readonly("dim", &Constraint::dim)
      .def_property_readonly("n_constraints", &Constraint::n_constraints)
      .def_property_readonly("name", &Constraint::name)
      .def(
          "value",
          [](const Constraint& c, const DoubleArray& x) {
            const Matrix P = rows_of(x, c.dim());
            const int k = c.n_constraints();
            std::vector<double> g(static_cast<std::size_t>(P.cols()) * k);
            for (long j = 0; j < P.cols(); ++j) c.value(P.col(j).data(), g.data() + j * k);
            return to_numpy(std::move(g), {static_cast<py::ssize_t>(P.cols()), k});
          },
          "x"_a, "g at each row of x (n, d); returns (n, m).")
      .def(
          "jacobian",
          [](const Constraint& c, const DoubleArray& x) {
            const Matrix P = rows_of(x, c.dim());
            if (P.cols() != 1) throw std::invalid_argument("x must be a single point of shape (d,)");
            Matrix J(c.n_constraints(), c.dim());
            c.jacobian(P.data(), J.data());
            using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
            RowMajor Jr = J;
            std::vector<double> v(Jr.data(), Jr.data() + Jr.size());
            return to_numpy(std::move(v), {c.n_constraints(), c.dim()});
          },
          "x"_a, "The Jacobian (m, d) at the point x (d,).");
  py::class_<Parabola, Constraint, std::shared_ptr<Parabola>>(m, "Parabola").def(py::init<int>(), py::kw_only(), "dim"_a = 2);
  py::class_<Sphere, Constraint, std::shared_ptr<Sphere>>(m, "Sphere")
      .def(py::init([](const DoubleArray& center, double radius) {
             return std::make_shared<Sphere>(to_vector(center, "center"), radius);
           }),
           py::kw_only(), "center"_a, "radius"_a);
  py::class_<Affine, Constraint, std::shared_ptr<Affine>>(m, "Affine")
      .def(py::init([](const DoubleArray& A, const DoubleArray& b) {
             return std::make_shared<Affine>(to_matrix(A, "A"), to_vector(b, "b"));
           }),
           py::kw_only(), "A"_a, "b"_a);
}

void bind_forcings(py::module_& m) {
  py::class_<Forcing, std::shared_ptr<Forcing>>(m, "Forcing")
      .def_property_readonly("dim", &Forcing::dim)
      .def_property_readonly("name", &Forcing::name)
      .def(
          "eval",
          [](const Forcing& w, const DoubleArray& t, std::uint64_t seed, std::uint64_t path) {
            if (t.ndim() != 1) throw std::invalid_argument("t must be 1-dimensional");
            const long n = t.shape(0);
            std::vector<double> out(static_cast<std::size_t>(n) * w.dim());
            for (long i = 0; i < n; ++i) w.eval(t.data()[i], seed, path, out.data() + i * w.dim());
            return to_numpy(std::move(out), {static_cast<py::ssize_t>(n), w.dim()});
          },
          "t"_a, "seed"_a, "path"_a, "w(t) of path `path` of the run with seed `seed` at each time of t; returns (n, d).");
  py::class_<PeriodicForcing, Forcing, std::shared_ptr<PeriodicForcing>>(m, "PeriodicForcing")
      .def(py::init([](const DoubleArray& directions, double amplitude, double omega, double phase) {
             return std::make_shared<PeriodicForcing>(to_matrix(directions, "directions"), amplitude, omega, phase);
           }),
           py::kw_only(), "directions"_a, "amplitude"_a, "omega"_a, "phase"_a = 0.0);
  py::class_<BrownianForcing, Forcing, std::shared_ptr<BrownianForcing>>(m, "BrownianForcing")
      .def(py::init<int, double, double, int>(), py::kw_only(), "dim"_a, "scale"_a, "horizon"_a, "levels"_a);
  py::class_<RandomDirectionForcing, Forcing, std::shared_ptr<RandomDirectionForcing>>(m, "RandomDirectionForcing")
      .def(py::init<int, double, double>(), py::kw_only(), "dim"_a, "amplitude"_a, "tau"_a);
  py::class_<TableForcing, Forcing, std::shared_ptr<TableForcing>>(m, "TableForcing")
      .def(py::init([](const DoubleArray& times, const DoubleArray& values) {
             return std::make_shared<TableForcing>(to_vector(times, "times"), to_matrix(values, "values"));
           }),
           py::kw_only(), "times"_a, "values"_a);
}

}  // namespace

void bind_constrained(py::module_& m) {
  bind_constraints(m);
  bind_forcings(m);
  py::class_<Ackley, Landscape, std::shared_ptr<Ackley>>(m, "Ackley")
      .def(py::init<int, double, double, double>(), py::kw_only(), "dim"_a, "a"_a, "d"_a, "c"_a);
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
            const Matrix P = rows_of(x, d);
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
