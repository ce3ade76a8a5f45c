#pragma once

#include <cmath>
#include <string>

#include "escapade/jacobi.hpp"
#include "escapade/kernels.hpp"
#include "escapade/landscapes/finite_sum.hpp"

namespace escapade {

// Ridge least squares on a data matrix, one term per sample (uniform weights):
//   f_i(w) = (x_i^T w - y_i)^2 / 2 + (l2 / 2) |w|^2,   F = (1/n) sum_i f_i,   Hessian X^T X / n + l2 I.
class LeastSquares final : public FiniteSum {
 public:
  // X: d x n (column i = sample i), y: n.
  LeastSquares(Matrix X, Vector y, double l2) : X_(std::move(X)), y_(std::move(y)), l2_(l2) {
    const long d = X_.rows(), n = X_.cols();
    require(d >= 1 && n >= 1, "X", std::to_string(n) + "x" + std::to_string(d), "a non-empty (n_samples, dim) array");
    require(X_.allFinite(), "X", "an array with NaN or inf", "finite");
    require(y_.size() == n, "y", "a vector of length " + std::to_string(y_.size()),
            "of length " + std::to_string(n) + " (one target per row of X)");
    require(y_.allFinite(), "y", "a vector with NaN or inf", "finite");
    require(std::isfinite(l2) && l2 >= 0, "l2", l2, "finite and >= 0");
    p_ = Vector::Constant(n, 1.0 / static_cast<double>(n));
    hessian_ = Matrix::Zero(d, d);
    for (long i = 0; i < n; ++i) hessian_ += X_.col(i) * X_.col(i).transpose();
    hessian_ /= static_cast<double>(n);
    hessian_.diagonal().array() += l2_;
    if (static_cast<double>(n) * d <= kProductDoubles) data_rows_ = PaddedMatrix(X_.transpose());
  }
  int dim() const override { return static_cast<int>(X_.rows()); }
  std::string name() const override { return "LeastSquares"; }
  int n_terms() const override { return static_cast<int>(X_.cols()); }
  const Vector& weights() const override { return p_; }
  bool uniform() const override { return true; }

  double value(const double* w) const override {
    double f = 0;
    const double sq = plain_squared_norm(w, dim());  // in index order, whatever the instruction set
    for (int i = 0; i < n_terms(); ++i) {
      const double e = residual(i, w);
      f += 0.5 * e * e;
    }
    return f / n_terms() + 0.5 * l2_ * sq;
  }
  void add_term_gradient(int i, const double* w, double* g) const override { add_gradient(i, residual(i, w), w, g); }
  // A term's residual x_i^T w - y_i is a sum over the coordinates in order, one dependent addition after another
  // for a lane alone. When the block drew enough of its (term, lane) pairs, the residuals of every term for every
  // lane are one product X^T W over the block (fixed_order_matmul: each entry summed in the same order, so the
  // same bits), a dense pass at the vector units' rate that wastes the pairs not drawn; each drawn pair then adds
  // r x_i + l2 w as add_term_gradient does. Enough, measured: 1/8 of the pairs, 1/16 from 64 coordinates
  // (k/n = 1/4: 1.06x faster at d = 20, 1.9x at d = 100, 2.7x at d = 200). Sparser batches go term by term.
  void add_batch_gradients(const TermBatch& b, const double* x, double* g) const override {
    const int d = dim(), n = n_terms(), width = b.width;
    const long drawn = b.start[n], pairs = static_cast<long>(n) * width;
    if ((d >= 64 ? 16 : 8) * drawn < pairs || data_rows_.rows == 0 || pairs > kProductDoubles) {
      add_batch_by_term(*this, b, x, g);
      return;
    }
    thread_local std::vector<double> dots;
    dots.resize(static_cast<std::size_t>(n) * width);
    fixed_order_matmul(data_rows_, x, width, dots.data());  // dots[l n + i] = x_i^T w_l
    for (int i = 0; i < n; ++i)  // uniform p: the batch carries no weights
      for (int e = b.start[i]; e < b.start[i + 1]; ++e) {
        const long l = b.lane[e];
        add_gradient(i, dots[static_cast<std::size_t>(l) * n + i] - y_[i], x + l * d, g + l * d);
      }
  }
  void hessian(const double*, double* H) const override { Eigen::Map<Matrix>(H, dim(), dim()) = hessian_; }

 private:
  // g += r x_i + l2 w: term i's gradient at w from its residual r.
  void add_gradient(int i, double r, const double* __restrict w, double* __restrict g) const {
    const double* __restrict xi = X_.col(i).data();
    const double l2 = l2_;
    for (int j = 0, d = dim(); j < d; ++j) g[j] += r * xi[j] + l2 * w[j];
  }
  // x_i^T w - y_i, summed in a fixed order.
  double residual(int i, const double* w) const {
    const double* xi = X_.col(i).data();
    double s = 0;
    for (int j = 0; j < dim(); ++j) s += xi[j] * w[j];
    return s - y_[i];
  }

  Matrix X_;
  Vector y_;
  double l2_;
  Vector p_;
  Matrix hessian_;
  // X^T (n x d): the block's residuals as one product. Neither it nor the block's n x width residuals are made
  // past 2^22 doubles (32 MB): a large data set keeps the term-by-term kernel rather than a copy of X.
  static constexpr double kProductDoubles = 4194304.0;
  PaddedMatrix data_rows_;
};

}  // namespace escapade
