// Equality constraints g(x) = 0 of the constrained flow: thin constructors; validation lives in the core.
#include <pybind11/stl.h>

#include <memory>
#include <vector>

#include "escapade/constraint.hpp"
#include "numpy.hpp"

using namespace escapade;
using namespace escapade::py_glue;
using namespace pybind11::literals;

void bind_constraints(py::module_& m) {
  py::class_<Constraint, std::shared_ptr<Constraint>>(m, "Constraint")
      .def_property_readonly("dim", &Constraint::dim)
      .def_property_readonly("n_constraints", &Constraint::n_constraints)
      .def_property_readonly("name", &Constraint::name)
      .def(
          "value",
          [](const Constraint& c, const DoubleArray& x) {
            const Matrix P = points_of(x, c.dim(), "x");
            const int k = c.n_constraints();
            std::vector<double> g(static_cast<std::size_t>(P.cols()) * k);
            for (long j = 0; j < P.cols(); ++j) c.value(P.col(j).data(), g.data() + j * k);
            return to_numpy(std::move(g), {static_cast<py::ssize_t>(P.cols()), k});
          },
          "x"_a, "g at each row of x (n, d); returns (n, m).")
      .def(
          "jacobian",
          [](const Constraint& c, const DoubleArray& x) {
            const Matrix P = points_of(x, c.dim(), "x");
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
