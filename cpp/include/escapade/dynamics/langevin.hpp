#pragma once

#include <cmath>
#include <vector>

#include "escapade/dynamics.hpp"
#include "escapade/perturbations/gradient_noise.hpp"
#include "escapade/validate.hpp"

namespace escapade {

// Overdamped Langevin / continuous SGD, Euler-Maruyama:
//   isotropic:           dX = -grad f dt + sqrt(2 T) dW        x' = x - dt g + sqrt(2 T dt) z
//   constant covariance: dX = -grad f dt + eps S dW  (S: d x k) x' = x - dt g + sqrt(dt) eps S z
//   state-dependent:     dX = -grad f dt + eps R(X) dW         x' = x - dt g + sqrt(dt) eps R(x) z
// R(x) = C(x)^{1/2} with C the Hessian or a finite sum's empirical gradient covariance (gradient_noise.hpp): the
// continuous SGD of 003, eq. 3, with eps = sqrt(eta / B). The diffusion then changes with x, which the
// engine's bridge test (one constant covariance per dynamics) cannot follow: it is off for this form.
// With heun (constant noise only), Heun's predictor-corrector for additive noise, whose drift error is of order dt^2
// (Kloeden & Platen 1992, 15.1.3: the explicit order 2.0 weak scheme), at two gradients a step:
//   y = x - dt g(x) + n,   x' = x - (dt / 2) (g(x) + g(y)) + n,   n = sqrt(2 T dt) z or sqrt(dt) eps S z.
class Langevin final : public Dynamics {
 public:
  // Isotropic noise at temperature T.
  Langevin(double temperature, double dt, bool heun = false) : dt_(dt), heun_(heun) {
    check_dt();
    require(std::isfinite(temperature) && temperature >= 0, "temperature", temperature, "finite and >= 0");
    scale_ = std::sqrt(2.0 * temperature * dt);
    diffusion_.isotropic = true;
    diffusion_.scalar = 2.0 * temperature;
  }
  // Noise eps * S dW with a d x k matrix S.
  Langevin(Matrix S, double eps, double dt, bool heun = false) : dt_(dt), heun_(heun), B_(std::move(S)) {
    check_dt();
    diffusion_ = fixed_diffusion(B_, eps);
    scale_ = std::sqrt(dt);
    noise_ = GradientNoise(B_, "S");
  }

  // Noise eps R(X) dW with a state-dependent factor R (Hessian or empirical).
  Langevin(GradientNoise::Kind kind, double eps, double dt) : dt_(dt), noise_(kind, "S") {
    check_dt();
    require(std::isfinite(eps) && eps >= 0, "eps", eps, "finite and >= 0");
    require(kind != GradientNoise::Kind::Fixed, "S", "a fixed factor", "state-dependent in this constructor");
    scale_ = std::sqrt(dt) * eps;
  }

  std::string name() const override { return "Langevin"; }
  double dt() const override { return dt_; }
  bool continuous_time() const override { return true; }
  const Diffusion& diffusion() const override { return diffusion_; }
  bool bridge_test() const override { return !state_dependent(); }
  bool state_dependent() const { return noise_.state_dependent(); }
  bool isotropic() const { return B_.size() == 0 && !state_dependent(); }
  bool heun() const { return heun_; }

  void check_landscape(const Landscape& f) const override { noise_.check_landscape(f); }
  int noise_dim_on(const Landscape& f) const override {
    return state_dependent() ? noise_.noise_dim_on(f) : noise_dim(f.dim());
  }
  void check_dim(int d) const override {
    if (!isotropic() && !state_dependent())
      require(B_.rows() == d, "S", std::to_string(B_.rows()) + " rows",
              "a matrix with " + std::to_string(d) + " rows (the landscape's dimension)");
  }
  int noise_dim(int d) const override {
    if (state_dependent()) return noise_.noise_dim(d);
    return isotropic() ? d : static_cast<int>(B_.cols());
  }

  void advance(const Landscape& f, const StepInput& in, const StepOutput& out) const override {
    const int d = f.dim(), width = in.width;
    const double *x = in.x, *z = in.z;
    double *g = out.g, *x_next = out.x;
    f.gradient(x, g, width);
    const long n = static_cast<long>(d) * width;
    if (heun_) return heun_step(f, x, z, g, x_next, d, width);
    if (isotropic()) {
      const double dt = dt_, scale = scale_;  // locals: the stores could alias members
      for (long i = 0; i < n; ++i) x_next[i] = (x[i] - dt * g[i]) + scale * z[i];
      return;
    }
    // x_next = B z (one fixed-order product over the block) or R(x) z, then the step in place.
    noise_.apply(f, x, g, z, width, x_next);
    for (long i = 0; i < n; ++i) x_next[i] = (x[i] - dt_ * g[i]) + scale_ * x_next[i];
  }

 private:
  void check_dt() const { require(std::isfinite(dt_) && dt_ > 0, "dt", dt_, "a positive finite number"); }

  // g holds g(x) on entry (and on return); the noise n and g(y) go to a per-thread buffer, kept between steps.
  void heun_step(const Landscape& f, const double* x, const double* z, const double* g, double* x_next, int d,
                 int width) const {
    const long n = static_cast<long>(d) * width;
    thread_local std::vector<double> work;
    if (work.size() < static_cast<std::size_t>(2 * n)) work.resize(static_cast<std::size_t>(2 * n));
    double* gy = work.data();
    const double* noise = z;
    if (!isotropic()) {
      noise_.apply(f, x, g, z, width, work.data() + n);
      noise = work.data() + n;
    }
    const double dt = dt_, half = 0.5 * dt_, scale = scale_;
    for (long i = 0; i < n; ++i) x_next[i] = (x[i] - dt * g[i]) + scale * noise[i];
    f.gradient(x_next, gy, width);
    for (long i = 0; i < n; ++i) x_next[i] = (x[i] - half * (g[i] + gy[i])) + scale * noise[i];
  }

  double dt_;
  bool heun_ = false;
  Matrix B_;  // eps * S; empty when isotropic
  double scale_ = 0.0;
  Diffusion diffusion_;
  GradientNoise noise_;  // B (fixed) or the state-dependent factor; unused when isotropic
};

}  // namespace escapade
