// The base of the discrete optimizer maps: time is counted in iterations (dt = 1), with a step-size policy.
#pragma once

#include "escapade/dynamics.hpp"
#include "escapade/dynamics/step_policy.hpp"

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

}  // namespace escapade
