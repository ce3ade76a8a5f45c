// Equality constraints g(x) = 0 (m equations in n unknowns) and the projected flow of 000 eq. (2):
//   U_alpha(x) = -(I - J^T (J J^T)^{-1} J) grad f(x) - alpha J^T (J J^T)^{-1} g(x),   J = Dg(x) (m x n).
// Along the flow d/dt g(x(t)) = -alpha g(x(t)) (000, Proposition 1): feasible paths stay feasible and the
// others approach the feasible set at rate alpha.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "escapade/jacobi.hpp"
#include "escapade/types.hpp"
#include "escapade/validate.hpp"

namespace escapade {

class Constraint {
 public:
  virtual ~Constraint() = default;
  virtual int dim() const = 0;            // n, the dimension of x
  virtual int n_constraints() const = 0;  // m
  virtual std::string name() const = 0;
  // g(x), m values.
  virtual void value(const double* x, double* g) const = 0;
  // J(x) = Dg(x), m x n, column-major.
  virtual void jacobian(const double* x, double* J) const = 0;
  // g and J at `width` points x (width x n): g is width x m, J width blocks of m x n (each column-major).
  virtual void value_jacobian_lanes(const double* x, int width, double* g, double* J) const {
    const int n = dim(), m = n_constraints();
    for (int l = 0; l < width; ++l) {
      value(x + static_cast<long>(l) * n, g + static_cast<long>(l) * m);
      jacobian(x + static_cast<long>(l) * n, J + static_cast<long>(l) * m * n);
    }
  }
};

// g(x) = x_0 - (x_1^2 + ... + x_{n-1}^2) / 2: the parabola x1 = x2^2 / 2 of 000's numerical example (n = 2).
class Parabola final : public Constraint {
 public:
  explicit Parabola(int dim) : n_(dim) { require(dim >= 2, "dim", dim, "at least 2"); }
  int dim() const override { return n_; }
  int n_constraints() const override { return 1; }
  std::string name() const override { return "Parabola"; }
  void value(const double* x, double* g) const override { g[0] = value_at(x, n_); }
  void jacobian(const double* x, double* J) const override { jacobian_at(x, J, n_); }
  void value_jacobian_lanes(const double* x, int width, double* g, double* J) const override {
    if (n_ == 2) return lanes<2>(x, width, g, J);
    lanes<0>(x, width, g, J);
  }

 private:
  static double value_at(const double* x, int n) {
    double s = 0;
    for (int i = 1; i < n; ++i) s += x[i] * x[i];
    return x[0] - 0.5 * s;
  }
  static void jacobian_at(const double* x, double* J, int n) {
    J[0] = 1.0;
    for (int i = 1; i < n; ++i) J[i] = -x[i];
  }
  template <int N>  // N > 0: the dimension known at compile time, so that the loop over lanes vectorizes
  void lanes(const double* x, int width, double* __restrict g, double* __restrict J) const {
    const int n = N > 0 ? N : n_;
    for (int l = 0; l < width; ++l) {
      g[l] = value_at(x + static_cast<long>(l) * n, n);
      jacobian_at(x + static_cast<long>(l) * n, J + static_cast<long>(l) * n, n);
    }
  }

  int n_;
};

// g(x) = |x - c|^2 - R^2: the sphere of radius R around c.
class Sphere final : public Constraint {
 public:
  Sphere(Vector center, double radius) : c_(std::move(center)), r_(radius) {
    require(c_.size() >= 1 && c_.allFinite(), "center", "empty or non-finite", "a finite, non-empty vector");
    require(std::isfinite(radius) && radius > 0, "radius", radius, "a positive finite number");
  }
  int dim() const override { return static_cast<int>(c_.size()); }
  int n_constraints() const override { return 1; }
  std::string name() const override { return "Sphere"; }
  void value(const double* x, double* g) const override {
    double s = 0;
    for (int i = 0; i < dim(); ++i) s += (x[i] - c_[i]) * (x[i] - c_[i]);
    g[0] = s - r_ * r_;
  }
  void jacobian(const double* x, double* J) const override {
    for (int i = 0; i < dim(); ++i) J[i] = 2.0 * (x[i] - c_[i]);
  }

 private:
  Vector c_;
  double r_;
};

// g(x) = A x - b: an affine subspace (A is m x n).
class Affine final : public Constraint {
 public:
  Affine(Matrix A, Vector b) : A_(std::move(A)), b_(std::move(b)) {
    require(A_.rows() >= 1 && A_.cols() >= 1 && A_.allFinite(), "A", "empty or non-finite", "a finite m x n matrix");
    require(b_.size() == A_.rows(), "b", "of length " + std::to_string(b_.size()),
            "of length " + std::to_string(A_.rows()) + " (the rows of A)");
    require(b_.allFinite(), "b", "a vector with NaN or inf", "finite");
  }
  int dim() const override { return static_cast<int>(A_.cols()); }
  int n_constraints() const override { return static_cast<int>(A_.rows()); }
  std::string name() const override { return "Affine"; }
  void value(const double* x, double* g) const override {
    const int m = n_constraints(), n = dim();
    for (int r = 0; r < m; ++r) {
      double s = 0;
      for (int i = 0; i < n; ++i) s += A_(r, i) * x[i];
      g[r] = s - b_[r];
    }
  }
  void jacobian(const double*, double* J) const override { Eigen::Map<Matrix>(J, A_.rows(), A_.cols()) = A_; }

 private:
  Matrix A_;
  Vector b_;
};

// Scratch and arithmetic of U_alpha at one point. The m x m system (J J^T) [y c] = [J grad f, g] is solved by a
// symmetric eigendecomposition (m = 1: a division), whose eigenvalues give the condition number: the point is
// singular when lambda_min <= tol * max(lambda_max, 1) (J J^T has numerically lost rank, or J is near 0).
class ProjectedDrift {
 public:
  // c may be null: no constraint, U = -grad f in dimension n.
  ProjectedDrift(const Constraint* c, int n, double alpha, double singular_tol)
      : c_(c), n_(n), alpha_(alpha), tol_(singular_tol) {
    if (c_) {
      const int m = c_->n_constraints(), n = c_->dim();
      J_.resize(m, n);
      g_.resize(m);
      M_.resize(m, m);
      V_.resize(m, m);
      lam_.resize(m);
      T_.resize(m, 2);
      rhs_.resize(m, 2);
      sol_.resize(m, 2);
    }
  }
  // u = U_alpha(x) given grad = grad f(x); returns false (u = 0 for one constraint) where J J^T is singular.
  bool operator()(const double* x, const double* grad, double* u) {
    if (!c_) {
      for (int i = 0; i < n_; ++i) u[i] = -grad[i];
      return true;
    }
    const int m = static_cast<int>(J_.rows()), n = static_cast<int>(J_.cols());
    c_->jacobian(x, J_.data());
    c_->value(x, g_.data());
    if (m == 1) return project_one(J_.data(), g_[0], grad, u, n, alpha_, tol_);
    // In plain arithmetic (jacobi.hpp), every sum in index order: Eigen's products and solver gave different bits
    // at different instruction sets.
    plain_a_at(J_.data(), M_.data(), m, n);  // J J^T
    if (!M_.allFinite()) {  // overflow or NaN: not a lost rank, so u is NaN and the path DIVERGED
      for (int i = 0; i < n; ++i) u[i] = std::numeric_limits<double>::quiet_NaN();
      return true;
    }
    for (int r = 0; r < m; ++r) {
      double s = 0;
      for (int i = 0; i < n; ++i) s += J_(r, i) * grad[i];
      rhs_(r, 0) = s;
      rhs_(r, 1) = g_[r];
    }
    jacobi_eigen_ascending(M_.data(), V_.data(), lam_.data(), m);  // M_ overwritten
    // singular where the smallest eigenvalue is below tol of the largest
    if (!(lam_[0] > tol_ * std::max(lam_[m - 1], 1.0))) return false;
    plain_at_b(V_.data(), rhs_.data(), T_.data(), m, m, 2);  // sol = V diag(1 / lam) V^T rhs
    for (int c = 0; c < 2; ++c)
      for (int k = 0; k < m; ++k) T_(k, c) /= lam_[k];
    plain_a_b(V_.data(), T_.data(), sol_.data(), m, m, 2);
    for (int i = 0; i < n; ++i) {
      double s = 0;
      for (int r = 0; r < m; ++r) s += J_(r, i) * (sol_(r, 0) - alpha_ * sol_(r, 1));
      u[i] = -grad[i] + s;
    }
    return true;
  }

  // u = U_alpha at `width` points (x, grad and u width x n); singular[l] = 1 and u = 0 where J J^T is singular.
  // One constraint (m = 1) is evaluated for the whole block at once; the arithmetic is operator()'s.
  void lanes(const double* x, const double* grad, double* u, std::uint8_t* singular, int width) {
    const long size = static_cast<long>(n_) * width;
    if (!c_) {
      for (long j = 0; j < size; ++j) u[j] = -grad[j];
      return;
    }
    const int m = static_cast<int>(J_.rows());
    if (m == 1) {
      thread_local std::vector<double> buf;
      buf.resize(static_cast<std::size_t>(size + width));
      double *J = buf.data(), *g = J + size;
      c_->value_jacobian_lanes(x, width, g, J);
      if (n_ == 2) return lanes_one<2>(J, g, grad, u, singular, width);
      return lanes_one<0>(J, g, grad, u, singular, width);
    }
    for (int l = 0; l < width; ++l) {
      const long o = static_cast<long>(l) * n_;
      if (!(*this)(x + o, grad + o, u + o)) mark_singular(u + o, singular + l);
    }
  }

 private:
  // N > 0: n_ known at compile time, so that the loop over lanes vectorizes.
  template <int N>
  void lanes_one(const double* J, const double* g, const double* grad, double* __restrict u,
                 std::uint8_t* __restrict singular, int width) const {
    const int n = N > 0 ? N : n_;
    const double alpha = alpha_, tol = tol_;
    for (int l = 0; l < width; ++l) {
      const long o = static_cast<long>(l) * n;
      singular[l] |= !project_one(J + o, g[l], grad + o, u + o, n, alpha, tol);
    }
  }
  void mark_singular(double* u, std::uint8_t* singular) const {
    *singular = 1;
    for (int i = 0; i < n_; ++i) u[i] = 0.0;
  }
  // One constraint: J J^T is the scalar |J|^2. Branch-free (u = 0 where singular), so loops over lanes vectorize.
  static bool project_one(const double* J, double g, const double* grad, double* u, int n, double alpha, double tol) {
    double jj = 0, jg = 0;
    for (int i = 0; i < n; ++i) {
      jj += J[i] * J[i];
      jg += J[i] * grad[i];
    }
    // A non-finite |J|^2 (overflow, NaN) is not a singular constraint: u is NaN and the path DIVERGED (the
    // formula alone can come out finite, k = jg / inf = 0, and run the unconstrained flow).
    const bool finite = jj < std::numeric_limits<double>::infinity();
    const bool ok = jj > tol * std::max(jj, 1.0) || !finite;
    const double k = jg / jj - alpha * (g / jj);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (int i = 0; i < n; ++i) u[i] = ok ? (finite ? -grad[i] + J[i] * k : nan) : 0.0;
    return ok;
  }

  const Constraint* c_;
  int n_;
  double alpha_, tol_;
  Matrix J_, M_, V_, rhs_, T_, sol_;
  Vector g_, lam_;
};

}  // namespace escapade
