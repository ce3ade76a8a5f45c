#pragma once

#include <cmath>

#include "escapade/dynamics.hpp"
#include "escapade/dynamics/term_sampler.hpp"
#include "escapade/landscapes/finite_sum.hpp"
#include "escapade/validate.hpp"

namespace escapade {

// Stochastic gradient Langevin dynamics (001; Gelfand & Mitter 1990):
//   x_{t+1} = x_t - alpha_t (grad f(x_t) + xi_t) + beta_t W_t,   W_t ~ N(0, I),
// where grad f + xi_t is the full gradient (batch_size 0) or the minibatch gradient of k terms of a finite sum,
// drawn as SGD-k draws them (TermSampler: unbiased with or without replacement). Schedules: constant alpha_t = A, beta_t = B; or annealed alpha_t = A / s,
// beta_t = sqrt(B / (s log log s)) with s = t + t0 (t0 >= 3 keeps log log s positive).
class SGLD final : public Dynamics {
 public:
  SGLD(double A, double B, bool annealed, double t0, int batch_size, bool replace)
      : A_(A), B_(B), annealed_(annealed), t0_(t0), k_(batch_size), replace_(replace) {
    require(std::isfinite(A) && A >= 0, "A", A, "finite and >= 0");
    require(std::isfinite(B) && B >= 0, "B", B, "finite and >= 0");
    require(!annealed || (std::isfinite(t0) && t0 >= 3), "t0", t0, ">= 3 (log log t0 must be positive)");
    require(batch_size >= 0, "batch_size", batch_size, ">= 0 (0: the full gradient)");
  }
  std::string name() const override { return "SGLD"; }
  double dt() const override { return 1.0; }
  bool continuous_time() const override { return false; }
  const Diffusion& diffusion() const override { return none_; }
  void check_dim(int) const override {}
  void check_landscape(const Landscape& f) const override {
    if (k_ > 0) check_batch(f, k_, replace_);
  }
  int noise_dim(int d) const override { return d; }
  int uniform_dim(int) const override { return k_; }
  int uniform_dim_on(const Landscape& f) const override { return k_ > 0 ? batch_uniforms(f, k_, replace_) : 0; }

  double alpha(std::uint64_t t) const { return annealed_ ? A_ / (static_cast<double>(t) + t0_) : A_; }
  double beta(std::uint64_t t) const {
    if (!annealed_) return B_;
    const double s = static_cast<double>(t) + t0_;
    return std::sqrt(B_ / (s * std::log(std::log(s))));
  }

  void advance(const Landscape& f, const StepInput& in, const StepOutput& out) const override {
    const int d = f.dim();
    if (k_ > 0) {
      TermSampler(dynamic_cast<const FiniteSum&>(f), k_, replace_).batch_gradients(in.u, in.x, out.g, in.width);
    } else {
      f.gradient(in.x, out.g, in.width);
    }
    for (int l = 0; l < in.width; ++l) {
      const long o = static_cast<long>(l) * d;
      const double a = alpha(in.step[l]), b = beta(in.step[l]);
      for (int i = 0; i < d; ++i) out.x[o + i] = (in.x[o + i] - a * out.g[o + i]) + b * in.z[o + i];
    }
  }

 private:
  double A_, B_;
  bool annealed_;
  double t0_;
  int k_;
  bool replace_;
  Diffusion none_;
};

}  // namespace escapade
