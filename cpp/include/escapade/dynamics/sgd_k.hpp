#pragma once

#include <algorithm>
#include <vector>

#include "escapade/dynamics/gradient_descent.hpp"
#include "escapade/landscapes/stochastic_quadratic.hpp"

namespace escapade {

// SGD-k on a finite sum (004, Definition 3.5): each step draws k term indices with probabilities p_i from the
// path's own uniforms, with or without replacement, and steps along their average gradient:
//   x_{t+1} = x_t - eta_t (1/k) sum_j grad f_{i_j}(x_t).
// Indices are sorted before summing, so k = n without replacement under uniform p is GD bit for bit.
class SGDk final : public DiscreteMap {
 public:
  SGDk(StepPolicy lr, int k, bool replace) : DiscreteMap(std::move(lr)), k_(k), replace_(replace) {
    require(k >= 1, "batch_size", k, "a positive integer");
  }
  std::string name() const override { return "SGDk"; }
  int noise_dim(int) const override { return 0; }
  int uniform_dim(int) const override { return k_; }
  void check_landscape(const Landscape& f) const override {
    const auto* fs = dynamic_cast<const FiniteSum*>(&f);
    require(fs != nullptr, "landscape", f.name(), "a finite sum (SGD-k samples its terms)");
    if (!replace_)
      require(k_ <= fs->n_terms(), "batch_size", k_,
              "at most the number of terms (" + std::to_string(fs->n_terms()) + ") without replacement");
  }
  void advance(const Landscape& f, const StepInput& in, const StepOutput& out) const override {
    const auto& fs = dynamic_cast<const FiniteSum&>(f);
    const int d = f.dim(), n = fs.n_terms(), width = in.width;
    std::vector<double> cumulative(n);  // inverse-CDF sampling by bisection
    double acc = 0;
    for (int i = 0; i < n; ++i) cumulative[i] = acc += fs.weights()[i];
    std::vector<int> picks(k_), pool(n);
    std::vector<double> remaining(fs.weights().data(), fs.weights().data() + n);
    for (int l = 0; l < width; ++l) {
      const double* u = in.u + static_cast<long>(l) * k_;
      if (replace_) {
        for (int j = 0; j < k_; ++j) {
          const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u[j] * acc);
          picks[j] = std::min(static_cast<int>(it - cumulative.begin()), n - 1);
        }
      } else if (fs.uniform()) {  // partial Fisher-Yates
        for (int i = 0; i < n; ++i) pool[i] = i;
        for (int j = 0; j < k_; ++j) {
          const int r = j + std::min(static_cast<int>(u[j] * (n - j)), n - j - 1);
          std::swap(pool[j], pool[r]);
          picks[j] = pool[j];
        }
      } else {  // sequential: each draw from the weights of the indices not drawn yet
        std::copy(fs.weights().data(), fs.weights().data() + n, remaining.begin());
        double total = 1.0;
        for (int j = 0; j < k_; ++j) {
          const double target = u[j] * total;
          int pick = -1;
          double run = 0;
          for (int i = 0; i < n; ++i) {
            if (remaining[i] <= 0) continue;
            pick = i;
            run += remaining[i];
            if (run > target) break;
          }
          picks[j] = pick;
          total -= remaining[pick];
          remaining[pick] = 0;
        }
      }
      std::sort(picks.begin(), picks.end());
      const double* xl = in.x + static_cast<long>(l) * d;
      double* gl = out.g + static_cast<long>(l) * d;
      for (int i = 0; i < d; ++i) gl[i] = 0.0;
      for (int j = 0; j < k_; ++j) fs.add_term_gradient(picks[j], xl, gl);
      const double eta = lr_(in.step[l]);
      for (int i = 0; i < d; ++i) out.x[static_cast<long>(l) * d + i] = xl[i] - eta * (gl[i] / k_);
    }
  }
  int batch_size() const { return k_; }
  bool replace() const { return replace_; }

 private:
  int k_;
  bool replace_;
};

}  // namespace escapade
