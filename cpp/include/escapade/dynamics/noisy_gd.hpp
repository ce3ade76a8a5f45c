#pragma once

#include <cmath>

#include "escapade/dynamics/discrete_map.hpp"
#include "escapade/validate.hpp"

namespace escapade {

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

}  // namespace escapade
