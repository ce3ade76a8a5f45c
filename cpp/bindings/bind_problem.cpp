// Landscapes, dynamics, regions and starting points: thin constructors; validation lives in the core.
#include <pybind11/stl.h>

#include <memory>

#include "escapade/dynamics/adagrad.hpp"
#include "escapade/dynamics/gaussian_sgd.hpp"
#include "escapade/dynamics/gradient_descent.hpp"
#include "escapade/dynamics/heavy_ball.hpp"
#include "escapade/dynamics/langevin.hpp"
#include "escapade/dynamics/levy_langevin.hpp"
#include "escapade/dynamics/noisy_gd.hpp"
#include "escapade/dynamics/perturbed_gd.hpp"
#include "escapade/dynamics/sgd_k.hpp"
#include "escapade/dynamics/sgld.hpp"
#include "escapade/dynamics/stable_sgd.hpp"
#include "escapade/landscapes/double_well.hpp"
#include "escapade/landscapes/least_squares.hpp"
#include "escapade/landscapes/mlp.hpp"
#include "escapade/landscapes/octopus.hpp"
#include "escapade/landscapes/quadratic.hpp"
#include "escapade/landscapes/quadratic_circle.hpp"
#include "escapade/landscapes/stochastic_quadratic.hpp"
#include "escapade/landscapes/strict_saddle.hpp"
#include "escapade/landscapes/styblinski_tang.hpp"
#include "escapade/region.hpp"
#include "escapade/start.hpp"
#include "numpy.hpp"

using namespace escapade;
using namespace escapade::py_glue;
using namespace pybind11::literals;

namespace {

// Points as an (n, d) array, or one point as a (d,) array.
Matrix points_of(const DoubleArray& x, int d, const char* name) {
  if (x.ndim() == 1 && x.shape(0) == d) return Eigen::Map<const Vector>(x.data(), d);
  if (x.ndim() == 2 && x.shape(1) == d) return Eigen::Map<const Matrix>(x.data(), d, x.shape(0));
  throw std::invalid_argument(std::string(name) + " must have shape (" + std::to_string(d) + ",) or (n, " +
                              std::to_string(d) + ")");
}

py::array_t<double> vector_to_numpy(const Vector& v) {
  return to_numpy(std::vector<double>(v.data(), v.data() + v.size()), {static_cast<py::ssize_t>(v.size())});
}

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
      .def(py::init<int>(), py::kw_only(), "dim"_a = 1);
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
}

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

// "hessian" or "empirical": a state-dependent gradient-noise factor.
GradientNoise::Kind noise_kind(const std::string& noise, const char* name) {
  if (noise == "hessian") return GradientNoise::Kind::Hessian;
  if (noise == "empirical") return GradientNoise::Kind::Empirical;
  throw std::invalid_argument(std::string(name) + " must be a matrix, \"hessian\" or \"empirical\", got \"" + noise +
                              "\"");
}

void bind_dynamics(py::module_& m) {
  py::class_<Dynamics, std::shared_ptr<Dynamics>>(m, "Dynamics")
      .def_property_readonly("dt", &Dynamics::dt)
      .def_property_readonly("name", &Dynamics::name);
  py::enum_<StepPolicy::Kind>(m, "StepKind")
      .value("CONSTANT", StepPolicy::Kind::Constant)
      .value("INVERSE_SQRT", StepPolicy::Kind::InverseSqrt)
      .value("INVERSE", StepPolicy::Kind::Inverse)
      .value("TABLE", StepPolicy::Kind::Table);
  py::class_<StepPolicy>(m, "StepPolicy")
      .def(py::init<StepPolicy::Kind, double, std::vector<double>>(), "kind"_a, "scale"_a,
           "table"_a = std::vector<double>{})
      .def("__call__", &StepPolicy::operator(), "t"_a, "The step size at iteration t = 0, 1, ...");
  py::class_<GradientDescent, Dynamics, std::shared_ptr<GradientDescent>>(m, "GradientDescent")
      .def(py::init<StepPolicy>(), py::kw_only(), "lr"_a);
  py::class_<HeavyBall, Dynamics, std::shared_ptr<HeavyBall>>(m, "HeavyBall")
      .def(py::init<StepPolicy, double>(), py::kw_only(), "lr"_a, "momentum"_a);
  py::class_<NoisyGradientDescent, Dynamics, std::shared_ptr<NoisyGradientDescent>>(m, "NoisyGradientDescent")
      .def(py::init<StepPolicy, double>(), py::kw_only(), "lr"_a, "noise_radius"_a);
  py::class_<GaussianSGD, Dynamics, std::shared_ptr<GaussianSGD>>(m, "GaussianSGD")
      .def(py::init([](StepPolicy lr, double batch_size, const DoubleArray& R) {
             return std::make_shared<GaussianSGD>(std::move(lr), batch_size, to_matrix(R, "C"));
           }),
           py::kw_only(), "lr"_a, "batch_size"_a, "noise_factor"_a)
      .def(py::init([](StepPolicy lr, double batch_size, const std::string& noise) {
             return std::make_shared<GaussianSGD>(std::move(lr), batch_size, noise_kind(noise, "C"));
           }),
           py::kw_only(), "lr"_a, "batch_size"_a, "noise"_a);
  py::class_<StableSGD, Dynamics, std::shared_ptr<StableSGD>>(m, "StableSGD")
      .def(py::init<StepPolicy, double, double>(), py::kw_only(), "lr"_a, "alpha"_a, "scale"_a);
  py::class_<LevyLangevin, Dynamics, std::shared_ptr<LevyLangevin>>(m, "LevyLangevin")
      .def(py::init<double, double, double>(), py::kw_only(), "alpha"_a, "scale"_a, "dt"_a);
  py::enum_<AdaGrad::Mode>(m, "AdaGradMode")
      .value("FULL", AdaGrad::Mode::Full)
      .value("DIAGONAL", AdaGrad::Mode::Diagonal)
      .value("NORM", AdaGrad::Mode::Norm);
  py::class_<AdaGrad, Dynamics, std::shared_ptr<AdaGrad>>(m, "AdaGrad")
      .def(py::init<StepPolicy, double, AdaGrad::Mode>(), py::kw_only(), "lr"_a, "delta0"_a, "mode"_a);
  py::class_<SGDk, Dynamics, std::shared_ptr<SGDk>>(m, "SGDk")
      .def(py::init<StepPolicy, int, bool>(), py::kw_only(), "lr"_a, "batch_size"_a, "replace"_a);
  py::class_<PerturbedGD, Dynamics, std::shared_ptr<PerturbedGD>>(m, "PerturbedGD")
      .def(py::init<StepPolicy, double, double, double, double>(), py::kw_only(), "lr"_a, "radius"_a, "g_thres"_a,
           "f_thres"_a, "t_thres"_a);
  py::class_<SGLD, Dynamics, std::shared_ptr<SGLD>>(m, "SGLD")
      .def(py::init<double, double, bool, double, int, bool>(), py::kw_only(), "A"_a, "B"_a, "annealed"_a, "t0"_a,
           "batch_size"_a, "replace"_a)
      .def("alpha", &SGLD::alpha, "t"_a)
      .def("beta", &SGLD::beta, "t"_a);
  py::class_<Langevin, Dynamics, std::shared_ptr<Langevin>>(m, "Langevin")
      .def(py::init<double, double>(), py::kw_only(), "temperature"_a, "dt"_a)
      .def(py::init([](const DoubleArray& S, double eps, double dt) {
             return std::make_shared<Langevin>(to_matrix(S, "S"), eps, dt);
           }),
           py::kw_only(), "S"_a, "eps"_a, "dt"_a)
      .def(py::init([](const std::string& noise, double eps, double dt) {
             return std::make_shared<Langevin>(noise_kind(noise, "S"), eps, dt);
           }),
           py::kw_only(), "noise"_a, "eps"_a, "dt"_a);
}

void bind_regions(py::module_& m) {
  py::class_<Region, std::shared_ptr<Region>>(m, "Region")
      .def_property_readonly("dim", &Region::dim)
      .def(
          "contains",
          [](const Region& r, const DoubleArray& x) {
            const Matrix P = points_of(x, r.dim(), "x");
            std::vector<std::uint8_t> in(P.cols());
            r.contains(P.data(), static_cast<int>(P.cols()), in.data());
            return to_numpy(std::move(in), {static_cast<py::ssize_t>(P.cols())});
          },
          "x"_a, "1 where the row of x (n, d) lies in the region; returns (n,) uint8.");
  py::class_<HalfSpace, Region, std::shared_ptr<HalfSpace>>(m, "HalfSpace")
      .def(py::init([](const DoubleArray& normal, double offset) {
             return std::make_shared<HalfSpace>(to_vector(normal, "normal"), offset);
           }),
           py::kw_only(), "normal"_a, "offset"_a);
  py::class_<Ball, Region, std::shared_ptr<Ball>>(m, "Ball")
      .def(py::init([](const DoubleArray& center, double radius) {
             return std::make_shared<Ball>(to_vector(center, "center"), radius);
           }),
           py::kw_only(), "center"_a, "radius"_a);
  py::class_<Box, Region, std::shared_ptr<Box>>(m, "Box")
      .def(py::init([](const DoubleArray& low, const DoubleArray& high) {
             return std::make_shared<Box>(to_vector(low, "low"), to_vector(high, "high"));
           }),
           py::kw_only(), "low"_a, "high"_a);
}

void bind_starts(py::module_& m) {
  py::class_<Start, std::shared_ptr<Start>>(m, "Start")
      .def_property_readonly("dim", &Start::dim)
      .def(
          "sample",
          [](const Start& s, std::uint64_t seed, std::uint64_t first, std::uint64_t n) {
            std::vector<double> x(static_cast<std::size_t>(n) * s.dim());
            for (std::uint64_t i = 0; i < n; ++i) s.sample(seed, first + i, x.data() + i * s.dim());
            return to_numpy(std::move(x), {static_cast<py::ssize_t>(n), s.dim()});
          },
          "seed"_a, "first"_a, "n"_a, "Starting points of paths first .. first + n - 1; returns (n, d).");
  py::class_<FixedStart, Start, std::shared_ptr<FixedStart>>(m, "FixedStart")
      .def(py::init([](const DoubleArray& x0) { return std::make_shared<FixedStart>(to_vector(x0, "x0")); }), "x0"_a);
  py::class_<PointsStart, Start, std::shared_ptr<PointsStart>>(m, "PointsStart")
      .def(py::init([](const DoubleArray& points) {
             if (points.ndim() != 2) throw std::invalid_argument("x0 must be 2-dimensional (n, d)");
             return std::make_shared<PointsStart>(Eigen::Map<const Matrix>(points.data(), points.shape(1), points.shape(0)));
           }),
           "points"_a);
  py::class_<UniformBoxStart, Start, std::shared_ptr<UniformBoxStart>>(m, "UniformBoxStart")
      .def(py::init([](const DoubleArray& low, const DoubleArray& high) {
             return std::make_shared<UniformBoxStart>(to_vector(low, "low"), to_vector(high, "high"));
           }),
           py::kw_only(), "low"_a, "high"_a);
  py::class_<UniformBallStart, Start, std::shared_ptr<UniformBallStart>>(m, "UniformBallStart")
      .def(py::init([](const DoubleArray& center, double radius) {
             return std::make_shared<UniformBallStart>(to_vector(center, "center"), radius);
           }),
           py::kw_only(), "center"_a, "radius"_a);
  py::class_<GaussianStart, Start, std::shared_ptr<GaussianStart>>(m, "GaussianStart")
      .def(py::init([](const DoubleArray& mean, const DoubleArray& cov) {
             return std::make_shared<GaussianStart>(to_vector(mean, "mean"), to_matrix(cov, "cov"));
           }),
           py::kw_only(), "mean"_a, "cov"_a);
}

}  // namespace

void bind_problem(py::module_& m) {
  bind_landscapes(m);
  bind_finite_sums(m);
  bind_dynamics(m);
  bind_regions(m);
  bind_starts(m);
}
