#pragma once

#include <cmath>
#include <cstring>
#if __has_include(<unistd.h>)
#include <unistd.h>
#endif
#include <string>
#include <vector>

#include "escapade/kernels.hpp"
#include "escapade/landscapes/finite_sum.hpp"

namespace escapade {

// Styblinski-Tang sums (004, eqs. 54-55): F(x) = sum_i p_i f_i(x) with separable quartic terms
//   f_i(x) = (1/2) sum_j (a_ij x_j^4 + b_ij x_j^2 + c_ij x_j),   a_ij, c_ij >= 0, b_ij <= 0.
// F has the same form with the weighted coefficients A_j = sum_i p_i a_ij (and B, C), summed once at
// construction, so grad F and the Hessian cost O(d) whatever the number of terms; a term's gradient is O(d).
class StyblinskiTangSum final : public FiniteSum {
 public:
  // a, b, c: d x n (column i = term i), p: n.
  StyblinskiTangSum(Matrix a, Matrix b, Matrix c, Vector p)
      : a_(std::move(a)), b_(std::move(b)), c_(std::move(c)), p_(std::move(p)) {
    const long d = a_.rows(), n = a_.cols();
    require(d >= 1 && n >= 1, "c1", std::to_string(n) + "x" + std::to_string(d), "a non-empty (n_terms, dim) array");
    require(b_.rows() == d && b_.cols() == n, "c2", std::to_string(b_.cols()) + "x" + std::to_string(b_.rows()),
            "of the shape of c1");
    require(c_.rows() == d && c_.cols() == n, "c3", std::to_string(c_.cols()) + "x" + std::to_string(c_.rows()),
            "of the shape of c1");
    require(a_.allFinite() && (a_.array() >= 0).all(), "c1", "an array with a negative or non-finite entry",
            "finite and >= 0");
    require(b_.allFinite() && (b_.array() <= 0).all(), "c2", "an array with a positive or non-finite entry",
            "finite and <= 0");
    require(c_.allFinite() && (c_.array() >= 0).all(), "c3", "an array with a negative or non-finite entry",
            "finite and >= 0");
    uniform_ = check_weights(p_, n);
    A_ = Vector::Zero(d);
    B_ = Vector::Zero(d);
    C_ = Vector::Zero(d);
    for (long i = 0; i < n; ++i) {
      A_ += p_[i] * a_.col(i);
      B_ += p_[i] * b_.col(i);
      C_ += p_[i] * c_.col(i);
    }
    pack_terms();
  }
  int dim() const override { return static_cast<int>(a_.rows()); }
  std::string name() const override { return "StyblinskiTangSum"; }
  int n_terms() const override { return static_cast<int>(a_.cols()); }
  const Vector& weights() const override { return p_; }
  bool uniform() const override { return uniform_; }
  // The summed coefficients A, B, C of F = (1/2) sum_j (A_j x_j^4 + B_j x_j^2 + C_j x_j).
  const Vector& A() const { return A_; }
  const Vector& B() const { return B_; }
  const Vector& C() const { return C_; }

  double value(const double* x) const override {
    double f = 0;
    for (int j = 0; j < dim(); ++j) {
      const double v = x[j], v2 = v * v;
      const double t = A_[j] * (v2 * v2) + B_[j] * v2 + C_[j] * v;
      // a power overflowed (inf - inf, 0 * inf): the leading power with a coefficient alone
      f += !std::isnan(t) || std::isnan(v) ? t : A_[j] != 0 ? A_[j] * (v2 * v2) : B_[j] != 0 ? B_[j] * v2 : C_[j] * v;
    }
    return 0.5 * f;
  }
  // dF/dx_j = 2 A_j x_j^3 + B_j x_j + C_j / 2.
  void gradient(const double* x, double* g, int width) const override {
    const int d = dim();
    const double *A = A_.data(), *B = B_.data(), *C = C_.data();
    for (int l = 0; l < width; ++l) {
      const double* __restrict xl = x + static_cast<long>(l) * d;
      double* __restrict gl = g + static_cast<long>(l) * d;
      for (int j = 0; j < d; ++j) {
        const double v = xl[j];
        gl[j] = 2.0 * A[j] * ((v * v) * v) + B[j] * v + 0.5 * C[j];
      }
    }
  }
  void add_term_gradient(int i, const double* x, double* g) const override {
    const int d = dim();
    const double *a = a_.col(i).data(), *b = b_.col(i).data(), *c = c_.col(i).data();
    for (int j = 0; j < d; ++j) {
      const double v = x[j];
      g[j] += 2.0 * a[j] * ((v * v) * v) + b[j] * v + 0.5 * c[j];
    }
  }
  // The block kernel: coordinates in chunks of 32 or 16 (chunk_width), and per chunk, term by term, the term's
  // coefficients held in registers while they meet every lane that drew the term. Each lane's cube is taken once
  // per step, not once per term; a term adds (2 a x^3 + b x) + c / 2 as add_term_gradient does, with 2 a and
  // c / 2 stored (the same products), so the bits are those of the scalar terms in increasing order.
  void add_batch_gradients(const TermBatch& b, const double* x, double* g) const override {
    const int d = dim(), width = b.width;
    // The three arrays 320 bytes apart modulo 4 KiB: a store to acc then never looks like a store to the
    // addresses read next (4K aliasing stalls the loads).
    const long block = static_cast<long>(dp_) * width, stride = (block + 511) / 512 * 512 + 40;
    thread_local std::vector<double> buf;
    buf.resize(static_cast<std::size_t>(3 * stride + 8));  // every entry read is written below: no fill
    double *v = detail::align64(buf.data()), *v3 = v + stride, *acc = v3 + stride;
    // Lane-major x and g to chunk-major v, v3 and acc: the chunk at j0 of lane l at j0 * width + l * cw
    // (coordinates past d zero).
    for (int j0 = 0; j0 < d; j0 += chunk_width(j0)) {
      const int cw = chunk_width(j0), m = std::min(cw, d - j0);
      for (int l = 0; l < width; ++l) {
        const long o = static_cast<long>(j0) * width + static_cast<long>(l) * cw, ox = static_cast<long>(l) * d + j0;
        for (int j = 0; j < m; ++j) {
          const double xv = x[ox + j];
          v[o + j] = xv;
          v3[o + j] = (xv * xv) * xv;
          acc[o + j] = g[ox + j];
        }
        for (int j = m; j < cw; ++j) v[o + j] = v3[o + j] = acc[o + j] = 0.0;
      }
    }
    for (int j0 = 0; j0 < d; j0 += chunk_width(j0)) {
      const long o = static_cast<long>(j0) * width;
      const double* coef = packed_.data() + static_cast<long>(j0) * 3 * n_terms();
      if (chunk_width(j0) == 32)
        chunk_kernel<4>(b, coef, v + o, v3 + o, acc + o);
      else if (chunk_width(j0) == 16)
        chunk_kernel<2>(b, coef, v + o, v3 + o, acc + o);
      else
        chunk_kernel<1>(b, coef, v + o, v3 + o, acc + o);
    }
    for (int j0 = 0; j0 < d; j0 += chunk_width(j0)) {
      const int cw = chunk_width(j0), m = std::min(cw, d - j0);
      for (int l = 0; l < width; ++l)
        std::memcpy(g + static_cast<long>(l) * d + j0, acc + static_cast<long>(j0) * width + static_cast<long>(l) * cw,
                    sizeof(double) * m);
    }
  }
  // Diagonal: 6 A_j x_j^2 + B_j.
  void hessian(const double* x, double* H) const override {
    const int d = dim();
    Eigen::Map<Matrix>(H, d, d).setZero();
    for (int j = 0; j < d; ++j) H[static_cast<long>(j) * d + j] = 6.0 * A_[j] * x[j] * x[j] + B_[j];
  }

 private:
  // The chunk of the padded coordinates that starts at j0: chunk_ wide while chunk_ are left, then 16, then 8
  // (chunks of 32 make fewer passes over the batch than chunks of 16: 4 for d = 100 instead of 7).
  int chunk_width(int j0) const {
    const int left = dp_ - j0;
    return left >= chunk_ ? chunk_ : (left >= 16 ? 16 : 8);
  }
  // 32 where a chunk's lane data for the default block of 64 lanes (x, x^3 and the running sums: 48 KB) fits in the
  // L1 data cache (48 KB on Intel's Sapphire Rapids), or where the cache's size is unknown; else 16 (on AMD's Zen 4,
  // 32 KB of L1, chunks of 16 measured 8-10% faster on the 004 sum; other CPUs with 32 KB are not measured). The
  // chunks group the coordinates, never a sum's terms: same bits either way.
  static int widest_chunk() {
#ifdef _SC_LEVEL1_DCACHE_SIZE
    static const int w = [] {
      const long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE);
      return l1 > 0 && l1 < 3 * 64 * 32 * 8 ? 16 : 32;
    }();
    return w;
#else
    return 32;
#endif
  }

  // packed_: per chunk (starting at j0, width cw), per term i, the rows 2 a_ij, b_ij, c_ij / 2 of the chunk, each
  // cw long, zero past d: 3 cw n numbers from offset 3 j0 n.
  void pack_terms() {
    const int d = dim(), n = n_terms();
    dp_ = (d + 7) / 8 * 8;
    chunk_ = widest_chunk();
    packed_ = Vector::Zero(static_cast<long>(3) * dp_ * n);
    for (int j0 = 0; j0 < d; j0 += chunk_width(j0)) {
      const int cw = chunk_width(j0), m = std::min(cw, d - j0);
      for (int i = 0; i < n; ++i) {
        double* t = packed_.data() + static_cast<long>(j0) * 3 * n + static_cast<long>(i) * 3 * cw;
        for (int j = 0; j < m; ++j) {
          t[j] = 2.0 * a_(j0 + j, i);
          t[cw + j] = b_(j0 + j, i);
          t[2 * cw + j] = 0.5 * c_(j0 + j, i);
        }
      }
    }
  }

  // One chunk of V vectors of 8 coordinates: for each term, acc(:, l) += (2a v3 + b v) + c/2 (times w_i, on 0 +
  // the term, when weighted) for every lane l that drew it.
  template <int V>
  void chunk_kernel(const TermBatch& b, const double* __restrict coef, const double* __restrict v,
                    const double* __restrict v3, double* __restrict acc) const {
    using detail::Vec8;
    using detail::load8;
    constexpr int cw = 8 * V;
    const int n = n_terms();
    for (int i = 0; i < n; ++i) {
      const int e0 = b.start[i], e1 = b.start[i + 1];
      if (e0 == e1) continue;
      const double* t = coef + static_cast<long>(i) * 3 * cw;
      Vec8 a2[V], bb[V], ch[V];
      for (int q = 0; q < V; ++q) {
        a2[q] = load8(t + 8 * q);
        bb[q] = load8(t + cw + 8 * q);
        ch[q] = load8(t + 2 * cw + 8 * q);
      }
      if (!b.weight) {
        for (int e = e0; e < e1; ++e) {
          const long o = static_cast<long>(b.lane[e]) * cw;
          for (int q = 0; q < V; ++q) {
            const Vec8 term = (a2[q] * load8(v3 + o + 8 * q) + bb[q] * load8(v + o + 8 * q)) + ch[q];
            const Vec8 sum = load8(acc + o + 8 * q) + term;
            std::memcpy(acc + o + 8 * q, &sum, sizeof sum);
          }
        }
        continue;
      }
      const double w = b.weight[i];
      for (int e = e0; e < e1; ++e) {
        const long o = static_cast<long>(b.lane[e]) * cw;
        for (int q = 0; q < V; ++q) {
          const Vec8 term = (a2[q] * load8(v3 + o + 8 * q) + bb[q] * load8(v + o + 8 * q)) + ch[q];
          const Vec8 sum = load8(acc + o + 8 * q) + w * (0.0 + term);
          std::memcpy(acc + o + 8 * q, &sum, sizeof sum);
        }
      }
    }
  }

  Matrix a_, b_, c_;
  Vector p_, A_, B_, C_;
  int dp_ = 0;                  // d rounded up to a multiple of 8
  int chunk_ = 32;              // the widest chunk (widest_chunk)
  Vector packed_;  // the terms' coefficients by chunk (pack_terms); Eigen aligns it for whole-vector loads
  bool uniform_ = false;
};

}  // namespace escapade
