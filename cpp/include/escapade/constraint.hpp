// Equality constraints g(x) = 0 (m equations in n unknowns) and the projected flow of 000 eq. (2):
//   U_alpha(x) = -(I - J^T (J J^T)^{-1} J) grad f(x) - alpha J^T (J J^T)^{-1} g(x),   J = Dg(x) (m x n).
// Along the flow d/dt g(x(t)) = -alpha g(x(t)) (000, Proposition 1): feasible paths stay feasible and the
// others approach the feasible set at rate alpha.
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <cmath>
#include <memory>
#include <string>

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
};

// g(x) = x_0 - (x_1^2 + ... + x_{n-1}^2) / 2: the parabola x1 = x2^2 / 2 of 000's numerical example (n = 2).
class Parabola final : public Constraint {
 public:
  explicit Parabola(int dim) : n_(dim) { require(dim >= 2, "dim", dim, "at least 2"); }
  int dim() const override { return n_; }
  int n_constraints() const override { return 1; }
  std::string name() const override { return "Parabola"; }
  void value(const double* x, double* g) const override {
    double s = 0;
    for (int i = 1; i < n_; ++i) s += x[i] * x[i];
    g[0] = x[0] - 0.5 * s;
  }
  void jacobian(const double* x, double* J) const override {
    J[0] = 1.0;
    for (int i = 1; i < n_; ++i) J[i] = -x[i];
  }

 private:
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
      rhs_.resize(m, 2);
    }
  }
  // u = U_alpha(x) given grad = grad f(x); returns false (u untouched) where J J^T is singular.
  bool operator()(const double* x, const double* grad, double* u) {
    if (!c_) {
      for (int i = 0; i < n_; ++i) u[i] = -grad[i];
      return true;
    }
    const int m = static_cast<int>(J_.rows()), n = static_cast<int>(J_.cols());
    c_->jacobian(x, J_.data());
    c_->value(x, g_.data());
    double y = 0, cc = 0;
    if (m == 1) {
      double jj = 0, jg = 0;
      for (int i = 0; i < n; ++i) {
        jj += J_(0, i) * J_(0, i);
        jg += J_(0, i) * grad[i];
      }
      if (!(jj > tol_ * std::max(jj, 1.0))) return false;
      y = jg / jj;
      cc = g_[0] / jj;
      const double k = y - alpha_ * cc;
      for (int i = 0; i < n; ++i) u[i] = -grad[i] + J_(0, i) * k;
      return true;
    }
    M_.noalias() = J_ * J_.transpose();
    for (int r = 0; r < m; ++r) {
      double s = 0;
      for (int i = 0; i < n; ++i) s += J_(r, i) * grad[i];
      rhs_(r, 0) = s;
      rhs_(r, 1) = g_[r];
    }
    es_.compute(M_);
    const Vector& lam = es_.eigenvalues();  // ascending
    if (!(es_.info() == Eigen::Success) || !(lam[0] > tol_ * std::max(lam[m - 1], 1.0))) return false;
    const Matrix& V = es_.eigenvectors();
    sol_.noalias() = V * (lam.cwiseInverse().asDiagonal() * (V.transpose() * rhs_));
    for (int i = 0; i < n; ++i) {
      double s = 0;
      for (int r = 0; r < m; ++r) s += J_(r, i) * (sol_(r, 0) - alpha_ * sol_(r, 1));
      u[i] = -grad[i] + s;
    }
    return true;
  }

 private:
  const Constraint* c_;
  int n_;
  double alpha_, tol_;
  Matrix J_, M_, rhs_, sol_;
  Vector g_;
  Eigen::SelfAdjointEigenSolver<Matrix> es_;
};

}  // namespace escapade
