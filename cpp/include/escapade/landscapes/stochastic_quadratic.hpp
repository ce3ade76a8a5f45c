#pragma once

#include <cmath>
#include <cstring>
#include <vector>

#include "escapade/kernels.hpp"
#include "escapade/landscapes/finite_sum.hpp"

namespace escapade {

// The stochastic quadratic problem (004, Problem 3.1) with finitely many terms: f_i(x) = x^T Q_i x / 2 + r_i^T x.
class StochasticQuadratic final : public FiniteSum {
 public:
  // Q: n matrices d x d (stored one after another, column-major), r: d x n, p: n.
  StochasticQuadratic(std::vector<Matrix> Q, Matrix r, Vector p) : Q_(std::move(Q)), r_(std::move(r)), p_(std::move(p)) {
    const int n = static_cast<int>(Q_.size());
    require(n >= 1, "Q", "no terms", "at least one term");
    const long d = Q_[0].rows();
    for (int i = 0; i < n; ++i) {
      require(Q_[i].rows() == d && Q_[i].cols() == d && Q_[i].allFinite(), "Q", "term " + std::to_string(i),
              "finite square matrices of one size");
      const double scale = Q_[i].cwiseAbs().maxCoeff();
      require((Q_[i] - Q_[i].transpose()).cwiseAbs().maxCoeff() <= 1e-12 * scale, "Q",
              "a non-symmetric term " + std::to_string(i), "symmetric in every term");
    }
    require(r_.rows() == d && r_.cols() == n && r_.allFinite(), "r", std::to_string(r_.rows()) + "x" + std::to_string(r_.cols()),
            "finite, one vector of length d per term");
    uniform_ = check_weights(p_, n);
    // Per term, the last d mod 8 rows of r_i and of each column of Q_i, padded with zeros to 8.
    const int d8 = static_cast<int>(d) / 8 * 8;
    if (d8 < d) {
      tail_ = Vector::Zero(static_cast<long>(n) * (d + 1) * 8);
      for (int i = 0; i < n; ++i) {
        double* t = tail_.data() + static_cast<long>(i) * (d + 1) * 8;
        for (long j = d8; j < d; ++j) {
          t[j - d8] = r_(j, i);
          for (long k = 0; k < d; ++k) t[8 * (k + 1) + j - d8] = Q_[i](j, k);
        }
      }
    }
  }
  int dim() const override { return static_cast<int>(Q_[0].rows()); }
  std::string name() const override { return "StochasticQuadratic"; }
  int n_terms() const override { return static_cast<int>(Q_.size()); }
  const Vector& weights() const override { return p_; }
  bool uniform() const override { return uniform_; }
  double value(const double* x) const override {
    // Each sum in index order, whatever the instruction set.
    const int d = dim();
    double f = 0;
    for (int i = 0; i < n_terms(); ++i) {
      const Matrix& Q = Q_[i];
      double q = 0, r = 0;
      for (int j = 0; j < d; ++j) {
        double qx = 0;
        for (int k = 0; k < d; ++k) qx += Q(j, k) * x[k];
        q += x[j] * qx;
        r += r_(j, i) * x[j];
      }
      f += p_[i] * (0.5 * q + r);
    }
    return f;
  }
  void add_term_gradient(int i, const double* x, double* g) const override {
    const int d = dim();
    const Matrix& Q = Q_[i];
    for (int j = 0; j < d; ++j) {
      double s = r_(j, i);
      for (int k = 0; k < d; ++k) s += Q(j, k) * x[k];
      g[j] += s;
    }
  }
  // The block kernel: term by term, each term's Q_i and r_i applied to every lane that drew it, rows 8 at a time
  // (the last d mod 8 from a copy padded with zero rows): s = r_i + Q_i(:, 0) x_0 + Q_i(:, 1) x_1 + ... in increasing k, per row the sum
  // add_term_gradient forms, so the bits are those of the scalar terms in increasing order.
  void add_batch_gradients(const TermBatch& b, const double* x, double* g) const override {
    using detail::Vec8;
    using detail::load8;
    const int d = dim(), d8 = d / 8 * 8;
    thread_local std::vector<double> buf;
    buf.resize(static_cast<std::size_t>(d8) + 8);
    double* s = buf.data();
    for (int i = 0; i < b.n_terms; ++i) {
      const double* Q = Q_[i].data();  // column-major: Q(j, k) at k d + j
      const double* r = r_.col(i).data();
      for (int e = b.start[i]; e < b.start[i + 1]; ++e) {
        const long o = static_cast<long>(b.lane[e]) * d;
        const double* xl = x + o;
        double* gl = g + o;
        for (int j0 = 0; j0 < d8; j0 += 8) {
          Vec8 acc = load8(r + j0);
          for (int k = 0; k < d; ++k) acc = acc + load8(Q + static_cast<long>(k) * d + j0) * xl[k];
          std::memcpy(s + j0, &acc, sizeof acc);
        }
        if (d8 < d) {
          const double* t = tail_.data() + static_cast<long>(i) * (d + 1) * 8;
          Vec8 acc = load8(t);
          for (int k = 0; k < d; ++k) acc = acc + load8(t + 8 * (k + 1)) * xl[k];
          std::memcpy(s + d8, &acc, sizeof acc);
        }
        if (!b.weight) {
          for (int j = 0; j < d; ++j) gl[j] += s[j];
        } else {
          const double w = b.weight[i];
          for (int j = 0; j < d; ++j) gl[j] += w * (0.0 + s[j]);
        }
      }
    }
  }
  void hessian(const double*, double* H) const override {
    Eigen::Map<Matrix> out(H, dim(), dim());
    out.setZero();
    for (int i = 0; i < n_terms(); ++i) out += p_[i] * Q_[i];
  }

 private:
  std::vector<Matrix> Q_;
  Matrix r_;
  Vector tail_;  // add_batch_gradients' padded copy of the rows past the last multiple of 8
  Vector p_;
  bool uniform_ = false;
};

}  // namespace escapade
