#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "escapade/landscape.hpp"
#include "escapade/validate.hpp"

namespace escapade {

// Checks that p is a probability vector over the n terms (any n >= 1 when n < 0), named "p" in errors; returns
// whether it is uniform.
inline bool check_weights(const Vector& p, long n = -1) {
  require((n < 0 ? p.size() >= 1 : p.size() == n) && p.allFinite() && (p.array() >= 0).all() && std::abs(p.sum() - 1.0) <= 1e-9, "p",
          "not a probability vector over the terms", "non-negative, one per term, summing to 1");
  return (p.array() == p[0]).all();
}

// The terms a block of lanes drew in one step, grouped by term (O(n + width k)): the entries
// start[i] .. start[i + 1] - 1 of `lane` are the lanes that drew term i, in increasing lane order, a lane as often
// as it drew the term. Read term by term in increasing i, every lane meets its terms in increasing index order,
// the order in which a lane's minibatch gradient is summed. weight: per term, the factor of its gradient (n p_i
// for sampling without replacement under non-uniform p), or nullptr (no factor applied).
struct TermBatch {
  int n_terms = 0, k = 0, width = 0;
  const int* start = nullptr;  // n_terms + 1 offsets into lane
  const int* lane = nullptr;   // width * k lane indices
  const double* weight = nullptr;
};

// A finite sum F(x) = sum_i p_i f_i(x) whose terms' gradients SGD-k samples.
class FiniteSum : public Landscape {
 public:
  virtual int n_terms() const = 0;
  // Probabilities p_i (sum 1); uniform() when all are 1/n.
  virtual const Vector& weights() const = 0;
  virtual bool uniform() const = 0;
  // g += grad f_i(x) for one point x (length d).
  virtual void add_term_gradient(int i, const double* x, double* g) const = 0;
  // For `width` points (d x width): g(:, l) += grad f_{terms[l]}(x(:, l)). One call per block for landscapes
  // whose terms are cheaper in batches (user callbacks).
  virtual void add_term_gradients(const int* terms, const double* x, double* g, int width) const {
    const int d = dim();
    for (int l = 0; l < width; ++l) add_term_gradient(terms[l], x + static_cast<long>(l) * d, g + static_cast<long>(l) * d);
  }

  // For every lane l of the batch: g(:, l) += sum over the terms i lane l drew, in increasing i, of
  //   grad f_i(x(:, l))                     (b.weight == nullptr), or
  //   w_i (0 + grad f_i(x(:, l)))           (w = b.weight),
  // each term's gradient added to g as one vector (the bits of add_term_gradient into a zeroed vector, then
  // added). The built-in sums override it with block kernels that read each term's data once per block and
  // apply it to all the lanes that drew it; this fallback calls add_term_gradients once per rank j < k with the
  // j-th term of every lane (so a batched callback sees one call per rank).
  virtual void add_batch_gradients(const TermBatch& b, const double* x, double* g) const;

  // grad F = sum_i p_i grad f_i in index order; with uniform weights (sum_i grad f_i) / n. A sum whose full
  // gradient has a cheaper closed form (Styblinski-Tang sums) overrides this; SGD-k with k = n without replacement
  // calls gradient() itself (TermSampler), so it is GD bit for bit either way.
  void gradient(const double* x, double* g, int width) const override {
    const int d = dim(), n = n_terms();
    std::vector<double> gi(d);
    for (int l = 0; l < width; ++l) {
      const double* xl = x + static_cast<long>(l) * d;
      double* gl = g + static_cast<long>(l) * d;
      for (int j = 0; j < d; ++j) gl[j] = 0.0;
      for (int i = 0; i < n; ++i) {
        if (uniform()) {
          add_term_gradient(i, xl, gl);
          continue;
        }
        for (int j = 0; j < d; ++j) gi[j] = 0.0;
        add_term_gradient(i, xl, gi.data());
        for (int j = 0; j < d; ++j) gl[j] += weights()[i] * gi[j];
      }
      if (uniform())
        for (int j = 0; j < d; ++j) gl[j] /= n;
    }
  }
};

// Each lane's terms in increasing order (width x k, row per lane) from a batch grouped by term.
inline void lane_terms(const TermBatch& b, std::vector<int>& picks) {
  std::vector<int> filled(static_cast<std::size_t>(b.width), 0);
  picks.resize(static_cast<std::size_t>(b.k) * b.width);
  for (int i = 0; i < b.n_terms; ++i)
    for (int e = b.start[i]; e < b.start[i + 1]; ++e) {
      const int l = b.lane[e];
      picks[static_cast<std::size_t>(l) * b.k + filled[l]++] = i;
    }
}

inline void FiniteSum::add_batch_gradients(const TermBatch& b, const double* x, double* g) const {
  // Local copies: a callback may run another sampler on this thread.
  std::vector<int> picks, column(static_cast<std::size_t>(b.width));
  lane_terms(b, picks);
  std::vector<double> weight, term;
  if (b.weight) weight.assign(b.weight, b.weight + b.n_terms);
  const int d = dim(), width = b.width, k = b.k;
  const long n = static_cast<long>(d) * width;
  if (b.weight) term.resize(static_cast<std::size_t>(n));
  for (int j = 0; j < k; ++j) {
    for (int l = 0; l < width; ++l) column[l] = picks[static_cast<std::size_t>(l) * k + j];
    if (!b.weight) {
      add_term_gradients(column.data(), x, g, width);
      continue;
    }
    std::fill(term.begin(), term.end(), 0.0);
    add_term_gradients(column.data(), x, term.data(), width);
    for (int l = 0; l < width; ++l) {
      const double w = weight[column[l]];
      const long o = static_cast<long>(l) * d;
      for (int i = 0; i < d; ++i) g[o + i] += w * term[o + i];
    }
  }
}

// The term-major traversal for a sum whose term gradient is cheap to call directly (Sum is final, so the call
// is not virtual): term i's data is read once per block and applied to every lane that drew it, with the bits of
// the fallback. Sum::add_term_gradient must accept g aliasing nothing it reads.
template <class Sum>
inline void add_batch_by_term(const Sum& f, const TermBatch& b, const double* x, double* g) {
  const int d = f.dim();
  thread_local std::vector<double> term;
  if (b.weight) term.resize(static_cast<std::size_t>(d));
  for (int i = 0; i < b.n_terms; ++i) {
    for (int e = b.start[i]; e < b.start[i + 1]; ++e) {
      const long o = static_cast<long>(b.lane[e]) * d;
      if (!b.weight) {
        f.Sum::add_term_gradient(i, x + o, g + o);
        continue;
      }
      std::fill(term.begin(), term.end(), 0.0);
      f.Sum::add_term_gradient(i, x + o, term.data());
      const double w = b.weight[i];
      for (int j = 0; j < d; ++j) g[o + j] += w * term[j];
    }
  }
}

}  // namespace escapade
