#pragma once

#include "escapade/dynamics/discrete_map.hpp"

namespace escapade {

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

}  // namespace escapade
