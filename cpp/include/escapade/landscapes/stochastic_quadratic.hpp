#pragma once

#include <cmath>
#include <vector>

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
  // Term by term: a term's data is read once per block for all the lanes that drew it (same bits).
  void add_batch_gradients(const TermBatch& b, const double* x, double* g) const override {
    add_batch_by_term(*this, b, x, g);
  }
  void hessian(const double*, double* H) const override {
    Eigen::Map<Matrix> out(H, dim(), dim());
    out.setZero();
    for (int i = 0; i < n_terms(); ++i) out += p_[i] * Q_[i];
  }

 private:
  std::vector<Matrix> Q_;
  Matrix r_;
  Vector p_;
  bool uniform_ = false;
};

}  // namespace escapade
