#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "escapade/landscapes/finite_sum.hpp"
#include "escapade/validate.hpp"

namespace escapade {

// Draws k term indices of a finite sum from k uniforms: with replacement by inverse CDF, without replacement
// by a partial Fisher-Yates shuffle (uniform p) or sequentially from the weights left (general p). The indices
// come out sorted, so that summing their gradients has one order. Scratch space is reused across lanes.
// k = n without replacement under uniform p draws every term once: the batch gradient is then grad F itself,
// taken from f.gradient (bit for bit GD, and O(d) for sums with a closed-form full gradient).
class TermSampler {
 public:
  TermSampler(const FiniteSum& f, int k, bool replace)
      : f_(f), k_(k), replace_(replace), n_(f.n_terms()), full_batch_(!replace && k == n_ && f.uniform()),
        cumulative_(n_), pool_(n_), remaining_(n_) {
    double acc = 0;
    for (int i = 0; i < n_; ++i) cumulative_[i] = acc += f.weights()[i];
    total_ = acc;
  }
  void sample(const double* u, int* picks) {
    if (replace_) {
      for (int j = 0; j < k_; ++j) {
        const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u[j] * total_);
        picks[j] = std::min(static_cast<int>(it - cumulative_.begin()), n_ - 1);
      }
    } else if (f_.uniform()) {
      for (int i = 0; i < n_; ++i) pool_[i] = i;
      for (int j = 0; j < k_; ++j) {
        const int r = j + std::min(static_cast<int>(u[j] * (n_ - j)), n_ - j - 1);
        std::swap(pool_[j], pool_[r]);
        picks[j] = pool_[j];
      }
    } else {
      std::copy(f_.weights().data(), f_.weights().data() + n_, remaining_.begin());
      double total = total_;
      for (int j = 0; j < k_; ++j) {
        const double target = u[j] * total;
        int pick = -1;
        double run = 0;
        for (int i = 0; i < n_; ++i) {
          if (remaining_[i] <= 0) continue;
          pick = i;
          run += remaining_[i];
          if (run > target) break;
        }
        picks[j] = pick;
        total -= remaining_[pick];
        remaining_[pick] = 0;
      }
    }
    std::sort(picks, picks + k_);
  }
  // For each of `width` lanes: g = (1/k) sum of the gradients of the terms drawn with the lane's k uniforms, at
  // the lane's x. The j-th terms of all lanes are added in one call, so a batched landscape is called k times
  // per block-step; each lane's sum still runs over its sorted picks in order.
  void batch_gradients(const double* u, const double* x, double* g, int width) {
    if (full_batch_) {
      f_.gradient(x, g, width);
      return;
    }
    const int d = f_.dim();
    const long n = static_cast<long>(d) * width;
    picks_.resize(static_cast<std::size_t>(k_) * width);
    column_.resize(width);
    for (int l = 0; l < width; ++l) sample(u + static_cast<long>(l) * k_, picks_.data() + static_cast<long>(l) * k_);
    std::fill(g, g + n, 0.0);
    for (int j = 0; j < k_; ++j) {
      for (int l = 0; l < width; ++l) column_[l] = picks_[static_cast<std::size_t>(l) * k_ + j];
      f_.add_term_gradients(column_.data(), x, g, width);
    }
    for (long i = 0; i < n; ++i) g[i] = g[i] / k_;
  }

 private:
  const FiniteSum& f_;
  int k_;
  bool replace_;
  int n_;
  bool full_batch_;
  double total_ = 1.0;
  std::vector<double> cumulative_;
  std::vector<int> pool_, picks_, column_;
  std::vector<double> remaining_;
};

inline void check_batch(const Landscape& f, int k, bool replace) {
  const auto* fs = dynamic_cast<const FiniteSum*>(&f);
  require(fs != nullptr, "landscape", f.name(), "a finite sum (minibatches sample its terms)");
  if (!replace)
    require(k <= fs->n_terms(), "batch_size", k,
            "at most the number of terms (" + std::to_string(fs->n_terms()) + ") without replacement");
}

}  // namespace escapade
