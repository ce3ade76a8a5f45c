#pragma once

#include <cmath>
#include <memory>
#include <vector>

#include "escapade/dynamics.hpp"
#include "escapade/dynamics/stable_step.hpp"
#include "escapade/forcing.hpp"
#include "escapade/perturbations/stable.hpp"
#include "escapade/validate.hpp"

namespace escapade {

// dX = -grad f(X) dt + sigma dL_t, L an alpha-stable Levy process with independent symmetric coordinates,
// L_1 ~ S_alpha(1, 0, 0); Euler: x' = x - dt g + sigma dt^{1/alpha} S (increments of L over dt are
// dt^{1/alpha} S_alpha(1, 0, 0)). alpha = 2 is Langevin with temperature sigma^2 (L_t = sqrt(2) W_t).
// With a forcing w (forcing.hpp), the step adds dt w(t) at the step's start t = k dt, after the rest:
// x' = (x - dt g + sigma dt^{1/alpha} S) + dt w(t); without one the step is the same as ever.
class LevyLangevin final : public Dynamics {
 public:
  LevyLangevin(double alpha, double scale, double dt) : S_(alpha), dt_(dt) {
    require(std::isfinite(dt) && dt > 0, "dt", dt, "a positive finite number");
    require(std::isfinite(scale) && scale >= 0, "scale", scale, "finite and >= 0");
    // a zero scale is 0 even where dt^(1/alpha) overflows (dt > 1, small alpha)
    step_scale_ = {scale == 0 ? 0.0 : scale * std::pow(dt, 1.0 / alpha), std::log(scale) + std::log(dt) / alpha};
  }
  LevyLangevin(double alpha, double scale, double dt, std::shared_ptr<const Forcing> forcing)
      : LevyLangevin(alpha, scale, dt) {
    w_ = std::move(forcing);
  }
  std::string name() const override { return "LevyLangevin"; }
  double dt() const override { return dt_; }
  bool continuous_time() const override { return true; }
  bool bridge_test() const override { return false; }
  const Diffusion& diffusion() const override { return none_; }
  void check_dim(int d) const override {
    if (w_)
      require(w_->dim() == d, "forcing", w_->name() + " of dimension " + std::to_string(w_->dim()),
              "of the landscape's dimension " + std::to_string(d));
  }
  int noise_dim(int) const override { return 0; }
  int uniform_dim(int d) const override { return 2 * d; }
  void advance(const Landscape& f, const StepInput& in, const StepOutput& out) const override {
    stable_step(S_, f, in, out, step_scale_, [&](int) { return dt_; });
    if (!w_) return;
    const int d = f.dim(), width = in.width;
    thread_local std::vector<double> t, w;
    t.resize(static_cast<std::size_t>(width));
    w.resize(static_cast<std::size_t>(d) * width);
    for (int l = 0; l < width; ++l) t[static_cast<std::size_t>(l)] = static_cast<double>(in.step[l]) * dt_;
    w_->eval_lanes(t.data(), in.seed, in.path, width, w.data());
    for (long i = 0; i < static_cast<long>(d) * width; ++i) out.x[i] += dt_ * w[static_cast<std::size_t>(i)];
  }

 private:
  SymmetricStable S_;
  double dt_;
  StableScale step_scale_{0.0, 0.0};  // sigma dt^(1/alpha), and its logarithm
  Diffusion none_;
  std::shared_ptr<const Forcing> w_;
};

}  // namespace escapade
