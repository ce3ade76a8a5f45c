#pragma once

#include <cmath>

#include "escapade/dynamics/discrete_map.hpp"
#include "escapade/validate.hpp"

namespace escapade {

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

}  // namespace escapade
