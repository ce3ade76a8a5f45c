#pragma once

#include "escapade/dynamics/discrete_map.hpp"
#include "escapade/dynamics/term_sampler.hpp"
#include "escapade/landscapes/finite_sum.hpp"
#include "escapade/validate.hpp"

namespace escapade {

// SGD-k on a finite sum (004, Definition 3.5): each step draws k term indices from the path's own uniforms and
// steps along their average gradient, an unbiased estimate of grad F (TermSampler):
//   with replacement, indices with probabilities p_i:       x_{t+1} = x_t - eta_t (1/k) sum_j grad f_{i_j}(x_t);
//   without, k distinct indices uniformly, weights n p_i:   x_{t+1} = x_t - eta_t (1/k) sum_{i in S} n p_i grad f_i(x_t).
// k = n without replacement is GD bit for bit.
class SGDk final : public DiscreteMap {
 public:
  SGDk(StepPolicy lr, int k, bool replace) : DiscreteMap(std::move(lr)), k_(k), replace_(replace) {
    require(k >= 1, "batch_size", k, "a positive integer");
  }
  std::string name() const override { return "SGDk"; }
  int noise_dim(int) const override { return 0; }
  int uniform_dim(int) const override { return k_; }
  int uniform_dim_on(const Landscape& f) const override { return batch_uniforms(f, k_, replace_); }
  void check_landscape(const Landscape& f) const override { check_batch(f, k_, replace_); }
  void advance(const Landscape& f, const StepInput& in, const StepOutput& out) const override {
    TermSampler sampler(dynamic_cast<const FiniteSum&>(f), k_, replace_);
    sampler.batch_gradients(in.u, in.x, out.g, in.width);
    const int d = f.dim();
    for (int l = 0; l < in.width; ++l) {
      const long o = static_cast<long>(l) * d;
      const double eta = lr_(in.step[l]);
      for (int i = 0; i < d; ++i) out.x[o + i] = in.x[o + i] - eta * out.g[o + i];
    }
  }

 private:
  int k_;
  bool replace_;
};

}  // namespace escapade
