// Dynamics, the constrained flow among them, and the discrete maps' step-size policies: thin constructors;
// validation lives in the core.
#include <pybind11/stl.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "escapade/dynamics/adagrad.hpp"
#include "escapade/dynamics/constrained_flow.hpp"
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
#include "numpy.hpp"

using namespace escapade;
using namespace escapade::py_glue;
using namespace pybind11::literals;

namespace {

// "hessian" or "empirical": a state-dependent gradient-noise factor.
GradientNoise::Kind noise_kind(const std::string& noise, const char* name) {
  if (noise == "hessian") return GradientNoise::Kind::Hessian;
  if (noise == "empirical") return GradientNoise::Kind::Empirical;
  throw std::invalid_argument(std::string(name) + " must be a matrix, \"hessian\" or \"empirical\", got \"" + noise +
                              "\"");
}

}  // namespace

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
