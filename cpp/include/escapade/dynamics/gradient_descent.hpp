// Discrete optimizer maps: gradient descent, heavy-ball momentum, noisy GD with spherical noise, and SGD with
// Gaussian gradient noise of a fixed covariance. Time is counted in iterations (dt = 1).
#pragma once

#include <cmath>

#include "escapade/dynamics.hpp"
#include "escapade/dynamics/step_policy.hpp"
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

// SGD with Gaussian gradient noise (the Gaussian model of minibatch SGD):
//   x_{t+1} = x_t - eta_t grad f(x_t) + (eta_t / sqrt(B)) R z_t,   R R^T = C (a fixed covariance), z_t ~ N(0, I).
class GaussianSGD final : public DiscreteMap {
 public:
  GaussianSGD(StepPolicy lr, double batch_size, Matrix R) : DiscreteMap(std::move(lr)), B_(batch_size), R_(std::move(R)) {
    require(std::isfinite(batch_size) && batch_size > 0, "batch_size", batch_size, "positive");
    require(R_.rows() >= 1 && R_.cols() >= 1 && R_.allFinite(), "C", "an empty or non-finite matrix",
            "a finite covariance matrix");
    diagonal_ = R_.rows() == R_.cols();
    for (long j = 0; j < R_.cols() && diagonal_; ++j)
      for (long i = 0; i < R_.rows(); ++i)
        if (i != j && R_(i, j) != 0.0) diagonal_ = false;
  }
  std::string name() const override { return "GaussianSGD"; }
  void check_dim(int d) const override {
    require(R_.rows() == d, "C", std::to_string(R_.rows()) + " rows",
            "a " + std::to_string(d) + " x " + std::to_string(d) + " matrix (the landscape's dimension)");
  }
  int noise_dim(int) const override { return static_cast<int>(R_.cols()); }
  void advance(const Landscape& f, const StepInput& in, const StepOutput& out) const override {
    const int d = f.dim(), k = static_cast<int>(R_.cols()), width = in.width;
    const double *x = in.x, *z = in.z;
    const std::uint64_t* step = in.step;
    double *g = out.g, *x_next = out.x;
    f.gradient(x, g, width);
    const double inv_sqrt_b = 1.0 / std::sqrt(B_);
    for (int l = 0; l < width; ++l) {
      const double eta = lr_(step[l]);
      const double* zl = z + static_cast<long>(l) * k;
      for (int i = 0; i < d; ++i) {
        double rz = 0;
        if (diagonal_)  // the same sum without its zero terms: O(d) instead of O(d^2), the same bits
          rz += R_(i, i) * zl[i];
        else
          for (int j = 0; j < k; ++j) rz += R_(i, j) * zl[j];
        const long o = static_cast<long>(l) * d + i;
        x_next[o] = (x[o] - eta * g[o]) + (eta * inv_sqrt_b) * rz;
      }
    }
  }

 private:
  double B_;
  Matrix R_;
  bool diagonal_;
};

}  // namespace escapade
