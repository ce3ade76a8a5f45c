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
// A lane's gradients are summed in increasing term index, so that the sum has one order whatever the draw order:
// the block's draws are grouped by term (TermBatch, a counting sort, O(n + width k) per block-step, no sort per
// lane) and the landscape adds them term by term (FiniteSum::add_batch_gradients: block kernels for the built-in
// sums). Scratch space is kept per thread.
// k = n without replacement draws every term once and the batch gradient is grad F itself, taken from f.gradient
// (bit for bit GD, and O(d) for sums with a closed-form full gradient); the dynamics then draw no uniforms.
class TermSampler {
 public:
  TermSampler(const FiniteSum& f, int k, bool replace)
      : f_(f), k_(k), replace_(replace), n_(f.n_terms()), full_batch_(!replace && k == n_),
        weighted_(!replace && !f.uniform()), s_(scratch()) {
    if (replace_) {
      // Inverse CDF with a guide table: guide[c] = the first index whose cumulative weight exceeds c total / n,
      // a start from which the exact answer (std::upper_bound's) is found in a few comparisons on average.
      s_.cumulative.resize(n_);
      double acc = 0;
      for (int i = 0; i < n_; ++i) s_.cumulative[i] = acc += f.weights()[i];
      total_ = acc;
      s_.guide.resize(n_);
      int i = 0;
      for (int c = 0; c < n_; ++c) {
        const double t = total_ * (static_cast<double>(c) / n_);
        while (i < n_ - 1 && s_.cumulative[i] <= t) ++i;
        s_.guide[c] = i;
      }
    } else if (!full_batch_) {
      s_.pool.reserve(n_);
      for (int i = static_cast<int>(s_.pool.size()); i < n_; ++i) s_.pool.push_back(i);
      s_.swaps.resize(k_);
    }
    if (weighted_) {
      s_.weight.resize(n_);
      for (int i = 0; i < n_; ++i) s_.weight[i] = n_ * f.weights()[i];
    }
  }

  // The k term indices of one lane from its k uniforms, in draw order.
  void sample(const double* u, int* picks) {
    if (replace_) {
      const double* cum = s_.cumulative.data();
      for (int j = 0; j < k_; ++j) {
        const double t = u[j] * total_;
        // The first i with cumulative[i] > t (std::upper_bound), capped at n - 1 (t can reach the total).
        int c = static_cast<int>(u[j] * n_);
        c = std::min(std::max(c, 0), n_ - 1);
        int i = s_.guide[c];
        while (i > 0 && cum[i - 1] > t) --i;
        while (i < n_ && cum[i] <= t) ++i;
        picks[j] = std::min(i, n_ - 1);
      }
      return;
    }
    // Partial Fisher-Yates on the identity, then the swaps undone in reverse order: O(k) per draw.
    int* pool = s_.pool.data();
    int* swaps = s_.swaps.data();
    for (int j = 0; j < k_; ++j) swaps[j] = j + std::min(static_cast<int>(u[j] * (n_ - j)), n_ - j - 1);
    for (int j = 0; j < k_; ++j) {
      const int r = swaps[j];
      const int a = pool[j], b = pool[r];
      pool[r] = a;
      pool[j] = b;
      picks[j] = b;
    }
    for (int j = k_ - 1; j >= 0; --j) std::swap(pool[j], pool[swaps[j]]);
  }

  // The block's draws grouped by term (TermBatch), from each lane's k uniforms.
  TermBatch draw(const double* u, int width) {
    const std::size_t m = static_cast<std::size_t>(k_) * width;
    s_.picks.resize(m);
    s_.lane.resize(m);
    s_.start.assign(static_cast<std::size_t>(n_) + 1, 0);
    int* picks = s_.picks.data();
    int* start = s_.start.data();
    for (int l = 0; l < width; ++l) {
      int* pl = picks + static_cast<long>(l) * k_;
      sample(u + static_cast<long>(l) * k_, pl);
      for (int j = 0; j < k_; ++j) ++start[pl[j] + 1];
    }
    for (int i = 0; i < n_; ++i) start[i + 1] += start[i];
    s_.fill.assign(start, start + n_);
    int* fill = s_.fill.data();
    int* lane = s_.lane.data();
    for (int l = 0; l < width; ++l)
      for (int j = 0; j < k_; ++j) lane[fill[picks[static_cast<long>(l) * k_ + j]]++] = l;
    TermBatch b;
    b.n_terms = n_;
    b.k = k_;
    b.width = width;
    b.start = start;
    b.lane = lane;
    b.weight = weighted_ ? s_.weight.data() : nullptr;
    return b;
  }

  // For each of `width` lanes: the minibatch gradient g (above) of the terms drawn with the lane's k uniforms, at
  // the lane's x.
  void batch_gradients(const double* u, const double* x, double* g, int width) {
    if (full_batch_) {
      f_.gradient(x, g, width);
      return;
    }
    const long n = static_cast<long>(f_.dim()) * width;
    const TermBatch b = draw(u, width);
    std::fill(g, g + n, 0.0);
    f_.add_batch_gradients(b, x, g);
    for (long i = 0; i < n; ++i) g[i] = g[i] / k_;
  }

 private:
  struct Scratch {
    std::vector<double> cumulative, weight;
    std::vector<int> guide, pool, swaps, picks, lane, start, fill;
  };
  // One scratch per thread: a sampler is made per block-step. The pool is the identity of at least n indices,
  // left as found after each draw (filling an n-long pool per draw would cost O(n) where a draw costs O(k)).
  static Scratch& scratch() {
    thread_local Scratch s;
    return s;
  }

  const FiniteSum& f_;
  int k_;
  bool replace_;
  int n_;
  bool full_batch_, weighted_;
  double total_ = 1.0;
  Scratch& s_;
};

inline void check_batch(const Landscape& f, int k, bool replace) {
  const auto* fs = dynamic_cast<const FiniteSum*>(&f);
  require(fs != nullptr, "landscape", f.name(), "a finite sum (minibatches sample its terms)");
  if (!replace)
    require(k <= fs->n_terms(), "batch_size", k,
            "at most the number of terms (" + std::to_string(fs->n_terms()) + ") without replacement");
}

// Uniforms a lane of SGD-k (or SGLD with minibatches) draws per step: k, or none when the batch is every term.
inline int batch_uniforms(const Landscape& f, int k, bool replace) {
  const auto* fs = dynamic_cast<const FiniteSum*>(&f);
  return fs && !replace && k == fs->n_terms() ? 0 : k;
}

}  // namespace escapade
