#pragma once

#include <cmath>

#include "escapade/dynamics/discrete_map.hpp"
#include "escapade/dynamics/stable_step.hpp"
#include "escapade/perturbations/stable.hpp"
#include "escapade/validate.hpp"

namespace escapade {

// x_{t+1} = x_t - eta_t grad f(x_t) + sigma S_t, S_t with independent S_alpha(1, 0, 0) coordinates.
class StableSGD final : public DiscreteMap {
 public:
  StableSGD(StepPolicy lr, double alpha, double scale)
      : DiscreteMap(std::move(lr)), S_(alpha), sigma_{scale, std::log(scale)} {
    require(std::isfinite(scale) && scale >= 0, "scale", scale, "finite and >= 0");
  }
  std::string name() const override { return "StableSGD"; }
  int noise_dim(int) const override { return 0; }
  int uniform_dim(int d) const override { return 2 * d; }
  void advance(const Landscape& f, const StepInput& in, const StepOutput& out) const override {
    stable_step(S_, f, in, out, sigma_, [&](int l) { return lr_(in.step[l]); });
  }

 private:
  SymmetricStable S_;
  StableScale sigma_;
};

}  // namespace escapade
