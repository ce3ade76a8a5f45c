#pragma once

#include <cmath>
#include <string>

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
      f += A_[j] * (v2 * v2) + B_[j] * v2 + C_[j] * v;
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
  // Diagonal: 6 A_j x_j^2 + B_j.
  void hessian(const double* x, double* H) const override {
    const int d = dim();
    Eigen::Map<Matrix>(H, d, d).setZero();
    for (int j = 0; j < d; ++j) H[static_cast<long>(j) * d + j] = 6.0 * A_[j] * x[j] * x[j] + B_[j];
  }

 private:
  Matrix a_, b_, c_;
  Vector p_, A_, B_, C_;
  bool uniform_ = false;
};

}  // namespace escapade
