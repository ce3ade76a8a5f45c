#pragma once

#include <cmath>
#include <vector>

#include "escapade/dynamics/discrete_map.hpp"
#include "escapade/perturbations/gradient_noise.hpp"
#include "escapade/validate.hpp"

namespace escapade {

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
    const int width = in.width;
    const double* x = in.x;
    const std::uint64_t* step = in.step;
    double *g = out.g, *x_next = out.x;
    f.gradient(x, g, width);
    // x_next = (x - eta g) + (eta / sqrt(B)) R z, with R z's entries still in registers where R is fixed.
    const double inv_sqrt_b = 1.0 / std::sqrt(B_);
    thread_local std::vector<double> eta, scale;
    eta.resize(static_cast<std::size_t>(width));
    scale.resize(static_cast<std::size_t>(width));
    for (int l = 0; l < width; ++l) {
      eta[l] = lr_(step[l]);
      scale[l] = eta[l] * inv_sqrt_b;
    }
    noise_.apply_step(f, x, g, in.z, width, eta.data(), scale.data(), x_next);
  }

 private:
  void check_batch_size() const {
    require(std::isfinite(B_) && B_ > 0, "batch_size", B_, "positive");
  }

  double B_;
  GradientNoise noise_;
};

}  // namespace escapade
