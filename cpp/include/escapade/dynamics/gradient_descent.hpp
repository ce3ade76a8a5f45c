// Discrete optimizer maps: gradient descent, heavy-ball momentum, noisy GD with spherical noise, and SGD with
// Gaussian gradient noise of a fixed covariance. Time is counted in iterations (dt = 1).
#pragma once

#include <cmath>

#include "escapade/dynamics.hpp"
#include "escapade/dynamics/step_policy.hpp"
#include "escapade/perturbations/gradient_noise.hpp"
#include "escapade/validate.hpp"

namespace escapade {

// Shared parts of the maps: dt = 1, no bridge test, no diffusion.
class DiscreteMap : public Dynamics {
 public:
  explicit DiscreteMap(StepPolicy lr) : lr_(std::move(lr)) {}
  double dt() const override { return 1.0; }
  bool continuous_time() const override { return false; }
  const Diffusion& diffusion() const override { return none_; }
  void check_dim(int) const override {}

 protected:
  StepPolicy lr_;
  Diffusion none_;
};

// x_{t+1} = x_t - eta_t grad f(x_t)
class GradientDescent final : public DiscreteMap {
 public:
  using DiscreteMap::DiscreteMap;
  std::string name() const override { return "GD"; }
  int noise_dim(int) const override { return 0; }
  void advance(const Landscape& f, const StepInput& in, const StepOutput& out) const override {
    const int d = f.dim(), width = in.width;
    const double* x = in.x;
    const std::uint64_t* step = in.step;
    double *g = out.g, *x_next = out.x;
    f.gradient(x, g, width);
    for (int l = 0; l < width; ++l) {
      const double eta = lr_(step[l]);
      for (int i = 0; i < d; ++i) x_next[l * d + i] = x[l * d + i] - eta * g[l * d + i];
    }
  }
};

// Heavy ball (Polyak): v_{t+1} = beta v_t - eta_t grad f(x_t), x_{t+1} = x_t + v_{t+1}, v_0 = 0;
// the same as x_{t+1} = x_t - eta_t grad f(x_t) + beta (x_t - x_{t-1}).
class HeavyBall final : public DiscreteMap {
 public:
  HeavyBall(StepPolicy lr, double momentum) : DiscreteMap(std::move(lr)), beta_(momentum) {
    require(std::isfinite(momentum) && momentum >= 0 && momentum < 1, "momentum", momentum, "in [0, 1)");
  }
  std::string name() const override { return "HeavyBall"; }
  int noise_dim(int) const override { return 0; }
  int state_dim(int d) const override { return d; }
  void init_state(const double*, double* v, int d) const override {
    for (int i = 0; i < d; ++i) v[i] = 0.0;
  }
  void advance(const Landscape& f, const StepInput& in, const StepOutput& out) const override {
    const int d = f.dim(), width = in.width;
    const double *x = in.x, *v = in.state;
    const std::uint64_t* step = in.step;
    double *g = out.g, *x_next = out.x, *v_next = out.state;
    f.gradient(x, g, width);
    for (int l = 0; l < width; ++l) {
      const double eta = lr_(step[l]);
      for (int i = 0; i < d; ++i) {
        const long j = static_cast<long>(l) * d + i;
        v_next[j] = beta_ * v[j] - eta * g[j];
        x_next[j] = x[j] + v_next[j];
      }
    }
  }

 private:
  double beta_;
};

// Noisy GD (Ge et al. 2015): x_{t+1} = x_t - eta_t (grad f(x_t) + r xi_t), xi_t uniform on the unit sphere
// (a standard normal vector divided by its length).
class NoisyGradientDescent final : public DiscreteMap {
 public:
  NoisyGradientDescent(StepPolicy lr, double radius) : DiscreteMap(std::move(lr)), r_(radius) {
    require(std::isfinite(radius) && radius >= 0, "noise_radius", radius, "finite and >= 0");
  }
  std::string name() const override { return "NoisyGD"; }
  int noise_dim(int d) const override { return d; }
  void advance(const Landscape& f, const StepInput& in, const StepOutput& out) const override {
    const int d = f.dim(), width = in.width;
    const double *x = in.x, *z = in.z;
    const std::uint64_t* step = in.step;
    double *g = out.g, *x_next = out.x;
    f.gradient(x, g, width);
    for (int l = 0; l < width; ++l) {
      const long o = static_cast<long>(l) * d;
      double n2 = 0;
      for (int i = 0; i < d; ++i) n2 += z[o + i] * z[o + i];
      const double scale = n2 > 0 ? r_ / std::sqrt(n2) : 0.0;  // z = 0 has probability ~2^-32 per step in 1-D
      const double eta = lr_(step[l]);
      for (int i = 0; i < d; ++i) x_next[o + i] = x[o + i] - eta * (g[o + i] + scale * z[o + i]);
    }
  }

 private:
  double r_;
};

// SGD with Gaussian gradient noise (the Gaussian model of minibatch SGD, 003 eq. 2):
//   x_{t+1} = x_t - eta_t grad f(x_t) + (eta_t / sqrt(B)) R(x_t) z_t,   R R^T = C, z_t ~ N(0, I),
// with C a fixed covariance (R given), the Hessian at x_t, or the empirical covariance of a finite sum's term
// gradients at x_t (gradient_noise.hpp). R z is one matrix-matrix product over the block for a fixed R, summed in
// a fixed order per lane (kernels.hpp).
class GaussianSGD final : public DiscreteMap {
 public:
  GaussianSGD(StepPolicy lr, double batch_size, Matrix R) : DiscreteMap(std::move(lr)), B_(batch_size) {
    check_batch_size();
    noise_ = GradientNoise(std::move(R), "C");
  }
  GaussianSGD(StepPolicy lr, double batch_size, GradientNoise::Kind kind)
      : DiscreteMap(std::move(lr)), B_(batch_size), noise_(kind, "C") {
    check_batch_size();
  }
  std::string name() const override { return "GaussianSGD"; }
  void check_dim(int d) const override { noise_.check_dim(d); }
  void check_landscape(const Landscape& f) const override { noise_.check_landscape(f); }
  int noise_dim(int d) const override { return noise_.noise_dim(d); }
  int noise_dim_on(const Landscape& f) const override { return noise_.noise_dim_on(f); }
  void advance(const Landscape& f, const StepInput& in, const StepOutput& out) const override {
    const int d = f.dim(), width = in.width;
    const double* x = in.x;
    const std::uint64_t* step = in.step;
    double *g = out.g, *x_next = out.x;
    f.gradient(x, g, width);
    noise_.apply(f, x, g, in.z, width, x_next);  // x_next = R z, then the step in place
    const double inv_sqrt_b = 1.0 / std::sqrt(B_);
    for (int l = 0; l < width; ++l) {
      const double eta = lr_(step[l]);
      for (int i = 0; i < d; ++i) {
        const long o = static_cast<long>(l) * d + i;
        x_next[o] = (x[o] - eta * g[o]) + (eta * inv_sqrt_b) * x_next[o];
      }
    }
  }

 private:
  void check_batch_size() const {
    require(std::isfinite(B_) && B_ > 0, "batch_size", B_, "positive");
  }

  double B_;
  GradientNoise noise_;
};

}  // namespace escapade
