#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "escapade/landscapes/finite_sum.hpp"
#include "escapade/validate.hpp"

namespace escapade {

// Draws k term indices of a finite sum F = sum_i p_i f_i from k uniforms and forms a minibatch gradient whose
// expectation is grad F exactly:
// - with replacement: k independent indices by inverse CDF on p, g = (1/k) sum_j grad f_{i_j}; each draw has mean
//   grad F.
// - without replacement: k distinct indices uniformly (a partial Fisher-Yates shuffle), term i weighted by n p_i:
//   g = (1/k) sum_{i in S} n p_i grad f_i. Each term is in S with probability k/n, so E[g] = sum_i p_i grad f_i.
//   Under uniform p the weights are 1 and are not applied (n * (1/n) need not round to 1).
// Without replacement the batch is not drawn successively from the weights left: that scheme's inclusion
// probabilities are not proportional to p (the plain mean is biased; at k = n it is the unweighted average), and
// a Horvitz-Thompson correction needs them, a sum over the draw orders with no closed form. Uniform sampling with
// weights n p_i is exact and O(k); its cost is variance when p is far from uniform (docs/sgdk.md).
// The indices come out sorted, so that summing their gradients has one order. Scratch space is reused across lanes.
// k = n without replacement draws every term once and the batch gradient is grad F itself, taken from f.gradient
// (bit for bit GD, and O(d) for sums with a closed-form full gradient).
class TermSampler {
 public:
  TermSampler(const FiniteSum& f, int k, bool replace)
      : f_(f), k_(k), replace_(replace), n_(f.n_terms()), full_batch_(!replace && k == n_),
        weighted_(!replace && !f.uniform()) {
    if (replace_) {
      cumulative_.resize(n_);
      double acc = 0;
      for (int i = 0; i < n_; ++i) cumulative_[i] = acc += f.weights()[i];
      total_ = acc;
    } else if (!full_batch_) {
      pool_ = &identity(n_);
      swaps_.resize(k_);
    }
  }
  void sample(const double* u, int* picks) {
    if (replace_) {
      for (int j = 0; j < k_; ++j) {
        const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u[j] * total_);
        picks[j] = std::min(static_cast<int>(it - cumulative_.begin()), n_ - 1);
      }
    } else {
      // Partial Fisher-Yates on the identity, then the swaps undone in reverse order: O(k) per draw.
      for (int j = 0; j < k_; ++j) {
        const int r = j + std::min(static_cast<int>(u[j] * (n_ - j)), n_ - j - 1);
        std::swap((*pool_)[j], (*pool_)[r]);
        picks[j] = (*pool_)[j];
        swaps_[j] = r;
      }
      for (int j = k_ - 1; j >= 0; --j) std::swap((*pool_)[j], (*pool_)[swaps_[j]]);
    }
    std::sort(picks, picks + k_);
  }
  // For each of `width` lanes: the minibatch gradient g (above) of the terms drawn with the lane's k uniforms, at
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
    if (weighted_) term_.resize(n);
    for (int j = 0; j < k_; ++j) {
      for (int l = 0; l < width; ++l) column_[l] = picks_[static_cast<std::size_t>(l) * k_ + j];
      if (!weighted_) {
        f_.add_term_gradients(column_.data(), x, g, width);
        continue;
      }
      std::fill(term_.begin(), term_.end(), 0.0);
      f_.add_term_gradients(column_.data(), x, term_.data(), width);
      for (int l = 0; l < width; ++l) {
        const double w = n_ * f_.weights()[column_[l]];
        const long o = static_cast<long>(l) * d;
        for (int i = 0; i < d; ++i) g[o + i] += w * term_[o + i];
      }
    }
    for (long i = 0; i < n; ++i) g[i] = g[i] / k_;
  }

 private:
  const FiniteSum& f_;
  int k_;
  bool replace_;
  int n_;
  bool full_batch_, weighted_;
  double total_ = 1.0;
  std::vector<double> cumulative_, term_;
  std::vector<int>* pool_ = nullptr;  // the thread's identity of at least n_ indices, left as found after each draw
  std::vector<int> swaps_, picks_, column_;

  // One identity permutation per thread, grown to the largest n it has seen: a sampler is made per block-step, and
  // filling an n-long pool each time would cost O(n) where a draw costs O(k).
  static std::vector<int>& identity(int n) {
    thread_local std::vector<int> pool;
    for (int i = static_cast<int>(pool.size()); i < n; ++i) pool.push_back(i);
    return pool;
  }
};

inline void check_batch(const Landscape& f, int k, bool replace) {
  const auto* fs = dynamic_cast<const FiniteSum*>(&f);
  require(fs != nullptr, "landscape", f.name(), "a finite sum (minibatches sample its terms)");
  if (!replace)
    require(k <= fs->n_terms(), "batch_size", k,
            "at most the number of terms (" + std::to_string(fs->n_terms()) + ") without replacement");
}

}  // namespace escapade
