#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "escapade/dynamics/discrete_map.hpp"
#include "escapade/jacobi.hpp"
#include "escapade/validate.hpp"

namespace escapade {

// Adaptive step policies (002): x_{t+1} = x_t - eta_t Gamma_t grad f(x_t), with
//   full      Gamma_t = G_t^{-1/2},                      G_t = delta0^2 I + sum_{s<=t} g_s g_s^T  (d x d state)
//   diagonal  Gamma_t = diag(delta0^2 + sum_{s<=t} g_s^2)^{-1/2}                                   (d state)
//   norm      Gamma_t = (delta0^2 + sum_{s<=t} |g_s|^2)^{-1/2} I   (AdaNorm)                       (1 state)
// The sums include the current gradient. The full root is applied through G = V diag(w) V^T from cyclic Jacobi
// rotations in plain arithmetic (jacobi.hpp), whose bits do not depend on the instruction set.
class AdaGrad final : public DiscreteMap {
 public:
  enum class Mode { Full, Diagonal, Norm };

  AdaGrad(StepPolicy lr, double delta0, Mode mode) : DiscreteMap(std::move(lr)), delta0_(delta0), mode_(mode) {
    // delta0^2 must be a normal double: below, it underflows (0/0 at a critical point); above, it overflows
    require(std::isfinite(delta0) && delta0 > 0 && delta0 * delta0 >= std::numeric_limits<double>::min() &&
                std::isfinite(delta0 * delta0),
            "delta0", delta0, "a positive number between 1.5e-154 and 1.3e154 (delta0^2 a normal double)");
  }
  std::string name() const override { return mode_ == Mode::Norm ? "AdaNorm" : "AdaGrad"; }
  int noise_dim(int) const override { return 0; }
  int state_dim(int d) const override { return mode_ == Mode::Full ? d * d : (mode_ == Mode::Diagonal ? d : 1); }
  void init_state(const double*, double* s, int d) const override {
    const int n = state_dim(d);
    for (int i = 0; i < n; ++i) s[i] = 0.0;
    const double d2 = delta0_ * delta0_;
    if (mode_ == Mode::Full) {
      for (int i = 0; i < d; ++i) s[i * d + i] = d2;
    } else {
      for (int i = 0; i < n; ++i) s[i] = d2;
    }
  }
  void advance(const Landscape& f, const StepInput& in, const StepOutput& out) const override {
    const int d = f.dim(), n = state_dim(d), width = in.width;
    const double *x = in.x, *s = in.state;
    const std::uint64_t* step = in.step;
    double *g = out.g, *x_next = out.x, *s_next = out.state;
    f.gradient(x, g, width);
    const double d2 = delta0_ * delta0_;
    std::vector<double> work(mode_ == Mode::Full ? 2 * static_cast<std::size_t>(n) + 2 * d : 0);
    double *a = work.data(), *v = a + n, *y = v + n, *vy = y + d;
    for (int l = 0; l < width; ++l) {
      const long o = static_cast<long>(l) * d;
      const double* gl = g + o;
      const double* sl = s + static_cast<long>(l) * n;
      double* sn = s_next + static_cast<long>(l) * n;
      const double eta = lr_(step[l]);
      if (mode_ == Mode::Diagonal) {
        for (int i = 0; i < d; ++i) {
          sn[i] = sl[i] + gl[i] * gl[i];
          x_next[o + i] = x[o + i] - eta * gl[i] / std::sqrt(sn[i]);
        }
      } else if (mode_ == Mode::Norm) {
        double g2 = 0;
        for (int i = 0; i < d; ++i) g2 += gl[i] * gl[i];
        sn[0] = sl[0] + g2;
        const double scale = eta / std::sqrt(sn[0]);
        for (int i = 0; i < d; ++i) x_next[o + i] = x[o + i] - scale * gl[i];
      } else {
        for (int j = 0; j < d; ++j)
          for (int i = 0; i < d; ++i) sn[i + j * d] = sl[j * d + i] + gl[i] * gl[j];
        double trace = 0;
        for (int i = 0; i < d; ++i) trace += sn[i + i * d];
        for (int i = 0; i < n; ++i) a[i] = sn[i];
        jacobi_eigen(a, v, d);
        // G^{-1/2} g = V diag(w^{-1/2}) V^T g, each sum in index order.
        plain_at_b(v, gl, y, d, d, 1);
        // G >= delta0^2 I, but where delta0^2 is below the round-off of G (about eps trace G) it is lost, and an
        // eigenvalue below that round-off is noise (0, negative or tiny, and y there is noise too): it is taken
        // as max(delta0^2, the round-off). An eigenvalue above delta0^2 / 2 and the round-off is kept as it is.
        const double noise = 64 * std::numeric_limits<double>::epsilon() * trace;
        const double floor = std::max(0.5 * d2, noise);
        for (int j = 0; j < d; ++j) {
          const double w = a[j + j * d];
          y[j] = y[j] / std::sqrt(w >= floor ? w : std::max(d2, noise));
        }
        plain_a_b(v, y, vy, d, d, 1);
        for (int i = 0; i < d; ++i) x_next[o + i] = x[o + i] - eta * vy[i];
      }
    }
  }

 private:
  double delta0_;
  Mode mode_;
};

}  // namespace escapade
