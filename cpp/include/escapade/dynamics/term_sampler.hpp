#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

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
// the block's draws are grouped by term (TermBatch, O(n + width k) per block-step, no sort per lane: without
// replacement a bit per drawn (term, lane), with replacement a counting sort) and the landscape adds them term by term (FiniteSum::add_batch_gradients: block kernels for the built-in
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

  // The k term indices of one lane from its k uniforms, in draw order (with replacement).
  void sample(const double* u, int* picks) {
    const int k = k_, n = n_;  // locals: see sample_set
    const double* cum = s_.cumulative.data();
    for (int j = 0; j < k; ++j) {
      const double t = u[j] * total_;
      // The first i with cumulative[i] > t (std::upper_bound), capped at n - 1 (t can reach the total).
      int c = static_cast<int>(u[j] * n);
      c = std::min(std::max(c, 0), n - 1);
      int i = s_.guide[c];
      while (i > 0 && cum[i - 1] > t) --i;
      while (i < n && cum[i] <= t) ++i;
      picks[j] = std::min(i, n - 1);
    }
  }

  // Without replacement: the k distinct terms a partial Fisher-Yates shuffle of the identity draws from the
  // lane's k uniforms, each passed to mark(i). The entry at j is never read after step j, so it is not written;
  // the pool is then restored by storing back their own index at the swap targets, the only entries written
  // (O(k), no reads).
  template <class Mark>
  void sample_set(const double* u, Mark&& mark) {
    // k and n in locals: the stores through int pointers below could otherwise alias the members, which the
    // compiler would then reload at every step (and not vectorize the first loop).
    const int k = k_, n = n_;
    int* pool = s_.pool.data();
    int* swaps = s_.swaps.data();
    for (int j = 0; j < k; ++j) swaps[j] = j + std::min(static_cast<int>(u[j] * (n - j)), n - j - 1);
    for (int j = 0; j < k; ++j) {
      const int r = swaps[j];
      const int b = pool[r];
      pool[r] = pool[j];
      mark(b);
    }
    for (int j = 0; j < k; ++j) pool[swaps[j]] = swaps[j];
  }

  // Appends to lane[e ...] the lane numbers first + b of the set bits b of word (lanes first .. first + left - 1),
  // in increasing order; returns the new end. With AVX-512, 16 lanes at a time: the set bits' lane numbers
  // compressed to the front of a vector and stored whole (up to 16 entries past the end, which the caller's buffer
  // has room for), with no branch per bit, whose loop exit a term's random count made the predictor miss (the 004
  // sum's draw: 1.21 -> 0.92 us per path-step).
  static int append_lanes(std::uint64_t word, int first, int left, int* lane, int e) {
#if defined(__AVX512F__)
    const __m512i first16 = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const int groups = std::min(4, (left + 15) / 16);  // the groups of 16 that hold lanes
    for (int h = 0; h < groups; ++h) {
      const auto bits = static_cast<__mmask16>(word >> (16 * h));
      const __m512i lanes = _mm512_add_epi32(first16, _mm512_set1_epi32(first + 16 * h));
      _mm512_storeu_si512(lane + e, _mm512_maskz_compress_epi32(bits, lanes));
      e += __builtin_popcount(bits);
    }
#else
    (void)left;
    for (std::uint64_t bits = word; bits != 0; bits &= bits - 1) lane[e++] = first + __builtin_ctzll(bits);
#endif
    return e;
  }

  // The block's draws grouped by term (TermBatch), from each lane's k uniforms: a bit per (term, lane), read out
  // term by term (lanes in increasing order), when the draws are distinct and not too sparse (the read-out passes
  // over n width / 64 words); else a counting sort (the same grouping).
  TermBatch draw(const double* u, int width) {
    const int n = n_, k = k_;  // locals: see sample_set
    const std::size_t m = static_cast<std::size_t>(k) * width;
    s_.lane.resize(m + 16);  // 16 to spare: the read-out of the mask below stores whole vectors of 16 entries
    s_.start.resize(static_cast<std::size_t>(n) + 1);
    int* start = s_.start.data();
    int* lane = s_.lane.data();
    if (!replace_ && 4L * k * width >= n) {
      // Lane l's terms i are bit l % 64 of mask[i * words + l / 64]; the mask is all zero between draws (each
      // word is cleared as it is read out).
      const int words = (width + 63) / 64;
      s_.mask.resize(std::max(s_.mask.size(), static_cast<std::size_t>(n) * words), 0);
      std::uint64_t* mask = s_.mask.data();
      for (int l = 0; l < width; ++l) {
        std::uint64_t* col = mask + l / 64;
        const std::uint64_t bit = std::uint64_t{1} << (l % 64);
        sample_set(u + static_cast<long>(l) * k, [col, bit, words](int i) { col[static_cast<long>(i) * words] |= bit; });
      }
      int e = 0;
      for (int i = 0; i < n; ++i) {
        start[i] = e;
        for (int w = 0; w < words; ++w) {
          std::uint64_t& word = mask[static_cast<long>(i) * words + w];
          e = append_lanes(word, 64 * w, width - 64 * w, lane, e);
          word = 0;
        }
      }
      start[n] = e;
    } else {
      s_.picks.resize(m);
      std::fill(start, start + n + 1, 0);
      int* picks = s_.picks.data();
      for (int l = 0; l < width; ++l) {
        int* pl = picks + static_cast<long>(l) * k;
        if (replace_) {
          sample(u + static_cast<long>(l) * k, pl);
        } else {
          int* out = pl;
          sample_set(u + static_cast<long>(l) * k, [&out](int i) { *out++ = i; });
        }
        for (int j = 0; j < k; ++j) ++start[pl[j] + 1];
      }
      for (int i = 0; i < n; ++i) start[i + 1] += start[i];
      s_.fill.assign(start, start + n);
      int* fill = s_.fill.data();
      for (int l = 0; l < width; ++l)
        for (int j = 0; j < k; ++j) lane[fill[picks[static_cast<long>(l) * k + j]]++] = l;
    }
    TermBatch b;
    b.n_terms = n;
    b.k = k;
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
    std::vector<std::uint64_t> mask;
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
