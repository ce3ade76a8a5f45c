// Dynamics driven by symmetric alpha-stable noise (stable.hpp): a discrete map and an Euler scheme for a
// Levy-driven SDE. Each coordinate of a step's noise takes two of the lane's uniforms (uniform_dim = 2 d) from
// its counter-based stream, so paths are bitwise reproducible for any thread count and block size.
// Jump noise has no Brownian bridge: the crossing test between steps is off (bridge_test() is false).
#pragma once

#include <cmath>

#include "escapade/dynamics/gradient_descent.hpp"
#include "escapade/perturbations/stable.hpp"

namespace escapade {

// x' = x - h_l grad f(x) + scale S for every lane l, S with independent S_alpha(1, 0, 0) coordinates drawn from
// the lane's 2 d uniforms.
template <class StepSize>
void stable_step(const SymmetricStable& S, const Landscape& f, const StepInput& in, const StepOutput& out,
                 double scale, StepSize step_size) {
  const int d = f.dim(), width = in.width;
  const double* x = in.x;
  double *g = out.g, *x_next = out.x;
  f.gradient(x, g, width);
  for (int l = 0; l < width; ++l) {
    const long o = static_cast<long>(l) * d;
    S.fill(in.u + 2 * o, d, scale, x_next + o);
    const double h = step_size(l);
    for (int i = 0; i < d; ++i) x_next[o + i] = (x[o + i] - h * g[o + i]) + x_next[o + i];
  }
}

// x_{t+1} = x_t - eta_t grad f(x_t) + sigma S_t, S_t with independent S_alpha(1, 0, 0) coordinates.
class StableSGD final : public DiscreteMap {
 public:
  StableSGD(StepPolicy lr, double alpha, double scale) : DiscreteMap(std::move(lr)), S_(alpha), sigma_(scale) {
    require(std::isfinite(scale) && scale >= 0, "scale", scale, "finite and >= 0");
  }
  std::string name() const override { return "StableSGD"; }
  int noise_dim(int) const override { return 0; }
  int uniform_dim(int d) const override { return 2 * d; }
  void advance(const Landscape& f, const StepInput& in, const StepOutput& out) const override {
    stable_step(S_, f, in, out, sigma_, [&](int l) { return lr_(in.step[l]); });
  }

 private:
  SymmetricStable S_;
  double sigma_;
};

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
