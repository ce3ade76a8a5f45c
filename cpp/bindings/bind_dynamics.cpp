// Dynamics and the discrete maps' step-size policies: thin constructors; validation lives in the core. SGLD,
// Langevin and the constrained flow are bound in bind_flows.cpp, a translation unit compiled in parallel.
#include <pybind11/stl.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "escapade/dynamics/adagrad.hpp"
#include "escapade/dynamics/gaussian_sgd.hpp"
#include "escapade/dynamics/gradient_descent.hpp"
#include "escapade/dynamics/heavy_ball.hpp"
#include "escapade/dynamics/levy_langevin.hpp"
#include "escapade/dynamics/noisy_gd.hpp"
#include "escapade/dynamics/perturbed_gd.hpp"
#include "escapade/dynamics/sgd_k.hpp"
#include "escapade/dynamics/stable_sgd.hpp"
#include "dynamics_glue.hpp"
#include "numpy.hpp"

using namespace escapade;
using namespace escapade::py_glue;
using namespace pybind11::literals;

GradientNoise::Kind escapade::py_glue::noise_kind(const std::string& noise, const char* name) {
  if (noise == "hessian") return GradientNoise::Kind::Hessian;
  if (noise == "empirical") return GradientNoise::Kind::Empirical;
  throw std::invalid_argument(std::string(name) + " must be a matrix, \"hessian\" or \"empirical\", got \"" + noise +
                              "\"");
}

void bind_dynamics(py::module_& m) {
  py::class_<Dynamics, std::shared_ptr<Dynamics>>(m, "Dynamics")
      .def_property_readonly("dt", &Dynamics::dt)
      .def_property_readonly("name", &Dynamics::name)
      .def_property_readonly(
          "bridge_test", [](const Dynamics& d) { return d.bridge_test() || d.lane_diffusion(); },
          "Whether the engine can test for exits between steps (the Brownian bridge) for these dynamics")
      .def("state_dim", &Dynamics::state_dim, "d"_a,
           "Numbers of per-path optimizer state (momentum, accumulators, ...) beside the position, in dimension d");
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
}
