#pragma once

#include <cmath>

#include "escapade/dynamics.hpp"
#include "escapade/dynamics/stable_step.hpp"
#include "escapade/perturbations/stable.hpp"
#include "escapade/validate.hpp"

namespace escapade {

// dX = -grad f(X) dt + sigma dL_t, L an alpha-stable Levy process with independent symmetric coordinates,
// L_1 ~ S_alpha(1, 0, 0); Euler: x' = x - dt g + sigma dt^{1/alpha} S (increments of L over dt are
// dt^{1/alpha} S_alpha(1, 0, 0)). alpha = 2 is Langevin with temperature sigma^2 (L_t = sqrt(2) W_t).
class LevyLangevin final : public Dynamics {
 public:
  LevyLangevin(double alpha, double scale, double dt) : S_(alpha), dt_(dt) {
    require(std::isfinite(dt) && dt > 0, "dt", dt, "a positive finite number");
    require(std::isfinite(scale) && scale >= 0, "scale", scale, "finite and >= 0");
    step_scale_ = scale * std::pow(dt, 1.0 / alpha);
  }
  std::string name() const override { return "LevyLangevin"; }
  double dt() const override { return dt_; }
  bool continuous_time() const override { return true; }
  bool bridge_test() const override { return false; }
  const Diffusion& diffusion() const override { return none_; }
  void check_dim(int) const override {}
  int noise_dim(int) const override { return 0; }
  int uniform_dim(int d) const override { return 2 * d; }
  void advance(const Landscape& f, const StepInput& in, const StepOutput& out) const override {
    stable_step(S_, f, in, out, step_scale_, [&](int) { return dt_; });
  }

 private:
  SymmetricStable S_;
  double dt_;
  double step_scale_ = 0.0;
  Diffusion none_;
};

}  // namespace escapade
