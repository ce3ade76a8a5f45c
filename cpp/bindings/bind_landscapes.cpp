// Landscapes, the finite sums among them: thin constructors; validation lives in the core.
#include <pybind11/stl.h>

#include <memory>

#include "escapade/landscapes/ackley.hpp"
#include "escapade/landscapes/cosine.hpp"
#include "escapade/landscapes/double_well.hpp"
#include "escapade/landscapes/linear.hpp"
#include "escapade/landscapes/least_squares.hpp"
#include "escapade/landscapes/mlp.hpp"
#include "escapade/landscapes/octopus.hpp"
#include "escapade/landscapes/quadratic.hpp"
#include "escapade/landscapes/quadratic_circle.hpp"
#include "escapade/landscapes/stochastic_quadratic.hpp"
#include "escapade/landscapes/strict_saddle.hpp"
#include "escapade/landscapes/styblinski_tang.hpp"
#include "numpy.hpp"

using namespace escapade;
using namespace escapade::py_glue;
using namespace pybind11::literals;

namespace {

void bind_finite_sums(py::module_& m) {
  py::class_<FiniteSum, Landscape, std::shared_ptr<FiniteSum>>(m, "FiniteSum")
      .def_property_readonly("n_terms", &FiniteSum::n_terms)
      .def_property_readonly(
          "weights",
          [](const FiniteSum& f) { return vector_to_numpy(f.weights()); },
          "The terms' probabilities p (n,).")
      .def(
          "term_gradient",
          [](const FiniteSum& f, int i, const DoubleArray& x) {
            require(i >= 0 && i < f.n_terms(), "i", i, "a term index in [0, " + std::to_string(f.n_terms()) + ")");
            const Matrix P = points_of(x, f.dim(), "x");
            std::vector<double> g(P.size(), 0.0);
            for (long j = 0; j < P.cols(); ++j) f.add_term_gradient(i, P.col(j).data(), g.data() + j * f.dim());
            return to_numpy(std::move(g), {static_cast<py::ssize_t>(P.cols()), f.dim()});
          },
          "i"_a, "x"_a, "grad f_i at each row of x (n, d); returns (n, d).");
  py::class_<StochasticQuadratic, FiniteSum, std::shared_ptr<StochasticQuadratic>>(m, "StochasticQuadratic")
      .def(py::init([](const DoubleArray& Q, const DoubleArray& r, const DoubleArray& p) {
             if (Q.ndim() != 3 || Q.shape(1) != Q.shape(2)) throw std::invalid_argument("Q must have shape (n, d, d)");
             const long n = Q.shape(0), d = Q.shape(1);
             std::vector<Matrix> terms;
             for (long i = 0; i < n; ++i) terms.emplace_back(Eigen::Map<const Matrix>(Q.data() + i * d * d, d, d));
             if (r.ndim() != 2) throw std::invalid_argument("r must have shape (n, d)");
             return std::make_shared<StochasticQuadratic>(std::move(terms),
                                                          Eigen::Map<const Matrix>(r.data(), r.shape(1), r.shape(0)),
                                                          to_vector(p, "p"));
           }),
           py::kw_only(), "Q"_a, "r"_a, "p"_a);
  // (n, d) coefficient arrays, C-ordered: byte for byte the d x n column-major matrices the core stores.
  auto terms_of = [](const DoubleArray& a, const char* name) -> Matrix {
    if (a.ndim() != 2) throw std::invalid_argument(std::string(name) + " must have shape (n_terms, dim)");
    return Eigen::Map<const Matrix>(a.data(), a.shape(1), a.shape(0));
  };
  py::class_<StyblinskiTangSum, FiniteSum, std::shared_ptr<StyblinskiTangSum>>(m, "StyblinskiTangSum")
      .def(py::init([terms_of](const DoubleArray& c1, const DoubleArray& c2, const DoubleArray& c3,
                               const DoubleArray& p) {
             Matrix a = terms_of(c1, "c1"), b = terms_of(c2, "c2"), c = terms_of(c3, "c3");  // checked in order
             return std::make_shared<StyblinskiTangSum>(std::move(a), std::move(b), std::move(c), to_vector(p, "p"));
           }),
           py::kw_only(), "c1"_a, "c2"_a, "c3"_a, "p"_a)
      .def_property_readonly(
          "A", [](const StyblinskiTangSum& f) { return vector_to_numpy(f.A()); },
          "The summed quartic coefficients sum_i p_i c1_i (d,).")
      .def_property_readonly(
          "B", [](const StyblinskiTangSum& f) { return vector_to_numpy(f.B()); },
          "The summed quadratic coefficients sum_i p_i c2_i (d,).")
      .def_property_readonly(
          "C", [](const StyblinskiTangSum& f) { return vector_to_numpy(f.C()); },
          "The summed linear coefficients sum_i p_i c3_i (d,).");
  py::class_<QuadraticCircleSum, FiniteSum, std::shared_ptr<QuadraticCircleSum>>(m, "QuadraticCircleSum")
      .def(py::init([](const DoubleArray& q1, const DoubleArray& q2, const DoubleArray& q3, const DoubleArray& c1,
                       const DoubleArray& c2, const DoubleArray& c3, const DoubleArray& c4, const DoubleArray& p) {
             Vector v[] = {to_vector(q1, "q1"), to_vector(q2, "q2"), to_vector(q3, "q3"), to_vector(c1, "c1"),
                           to_vector(c2, "c2"), to_vector(c3, "c3"), to_vector(c4, "c4"), to_vector(p, "p")};
             return std::make_shared<QuadraticCircleSum>(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
           }),
           py::kw_only(), "q1"_a, "q2"_a, "q3"_a, "c1"_a, "c2"_a, "c3"_a, "c4"_a, "p"_a);
  py::class_<LeastSquares, FiniteSum, std::shared_ptr<LeastSquares>>(m, "LeastSquares")
      .def(py::init([terms_of](const DoubleArray& X, const DoubleArray& y, double l2) {
             Matrix data = terms_of(X, "X");
             return std::make_shared<LeastSquares>(std::move(data), to_vector(y, "y"), l2);
           }),
           py::kw_only(), "X"_a, "y"_a, "l2"_a);
  py::class_<MLP, FiniteSum, std::shared_ptr<MLP>>(m, "MLP")
      .def(py::init([terms_of](const DoubleArray& X, const DoubleArray& Y, int hidden, double l2) {
             Matrix inputs = terms_of(X, "X");
             return std::make_shared<MLP>(std::move(inputs), terms_of(Y, "y"), hidden, l2);
           }),
           py::kw_only(), "X"_a, "y"_a, "hidden"_a, "l2"_a);
}

}  // namespace

void bind_landscapes(py::module_& m) {
  py::class_<Landscape, std::shared_ptr<Landscape>>(m, "Landscape")
      .def_property_readonly("dim", &Landscape::dim)
      .def_property_readonly("name", &Landscape::name)
      .def(
          "value",
          [](const Landscape& f, const DoubleArray& x) {
            const Matrix P = points_of(x, f.dim(), "x");
            std::vector<double> v(P.cols());
            for (long j = 0; j < P.cols(); ++j) v[j] = f.value(P.col(j).data());
            return to_numpy(std::move(v), {static_cast<py::ssize_t>(P.cols())});
          },
          "x"_a, "f at each row of x (n, d); returns (n,).")
      .def(
          "gradient",
          [](const Landscape& f, const DoubleArray& x) {
            const Matrix P = points_of(x, f.dim(), "x");
            std::vector<double> g(P.size());
            f.gradient(P.data(), g.data(), static_cast<int>(P.cols()));
            return to_numpy(std::move(g), {static_cast<py::ssize_t>(P.cols()), f.dim()});
          },
          "x"_a, "grad f at each row of x (n, d); returns (n, d).")
      .def(
          "hessian",
          [](const Landscape& f, const DoubleArray& x) {
            const Matrix P = points_of(x, f.dim(), "x");
            if (P.cols() != 1) throw std::invalid_argument("x must be a single point of shape (d,)");
            std::vector<double> H(static_cast<std::size_t>(f.dim()) * f.dim());
            f.hessian(P.data(), H.data());  // symmetric: column-major reads the same as row-major
            return to_numpy(std::move(H), {f.dim(), f.dim()});
          },
          "x"_a, "The Hessian (d, d) at the point x (d,).");
  py::class_<DoubleWell, Landscape, std::shared_ptr<DoubleWell>>(m, "DoubleWell")
      .def(py::init<int, double>(), py::kw_only(), "dim"_a = 1, "height"_a = 1.0)
      .def_property_readonly("height", &DoubleWell::height);
  py::class_<Linear, Landscape, std::shared_ptr<Linear>>(m, "Linear")
      .def(py::init([](const DoubleArray& slope) { return std::make_shared<Linear>(to_vector(slope, "slope")); }),
           py::kw_only(), "slope"_a);
  py::class_<Cosine, Landscape, std::shared_ptr<Cosine>>(m, "Cosine")
      .def(py::init<int, double, double>(), py::kw_only(), "dim"_a = 1, "amplitude"_a = 1.0, "period"_a = 1.0);
  py::class_<StrictSaddle, Landscape, std::shared_ptr<StrictSaddle>>(m, "StrictSaddle")
      .def(py::init([](const DoubleArray& eigenvalues, double quartic) {
             return std::make_shared<StrictSaddle>(to_vector(eigenvalues, "eigenvalues"), quartic);
           }),
           py::kw_only(), "eigenvalues"_a, "quartic"_a);
  py::class_<Octopus, Landscape, std::shared_ptr<Octopus>>(m, "Octopus")
      .def(py::init<int, double, double, double>(), py::kw_only(), "dim"_a, "L"_a, "gamma"_a, "tau"_a)
      .def_property_readonly("nu", &Octopus::nu);
  py::class_<Quadratic, Landscape, std::shared_ptr<Quadratic>>(m, "Quadratic")
      .def(py::init([](const DoubleArray& H, const DoubleArray& center) {
             return std::make_shared<Quadratic>(to_matrix(H, "H"), to_vector(center, "center"));
           }),
           py::kw_only(), "H"_a, "center"_a);
  py::class_<Ackley, Landscape, std::shared_ptr<Ackley>>(m, "Ackley")
      .def(py::init<int, double, double, double>(), py::kw_only(), "dim"_a, "a"_a, "d"_a, "c"_a);
  bind_finite_sums(m);
}
