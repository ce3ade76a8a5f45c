#pragma once

#include <cmath>

#include "escapade/landscape.hpp"

namespace escapade {

// A strict saddle in any dimension: f(x) = sum_i (lambda_i x_i^2 / 2 + q x_i^4 / 4). With one lambda_i < 0 the
// origin is a strict saddle and the quartic term confines the paths; the minima sit at x_i = +-sqrt(-lambda_i / q)
// on the negative directions.
class StrictSaddle final : public Landscape {
 public:
  StrictSaddle(Vector eigenvalues, double quartic) : lam_(std::move(eigenvalues)), q_(quartic) {
    require(lam_.size() >= 1 && lam_.allFinite(), "eigenvalues", "empty or non-finite", "a finite, non-empty vector");
    require(std::isfinite(quartic) && quartic > 0, "quartic", quartic, "positive and finite");
  }
  int dim() const override { return static_cast<int>(lam_.size()); }
  std::string name() const override { return "StrictSaddle"; }
  double value(const double* x) const override {
    double f = 0;
    for (int i = 0; i < dim(); ++i) f += 0.5 * lam_[i] * x[i] * x[i] + 0.25 * q_ * (x[i] * x[i]) * (x[i] * x[i]);
    return f;
  }
  void gradient(const double* x, double* g, int width) const override {
    const int d = dim();
    for (int l = 0; l < width; ++l)
      for (int i = 0; i < d; ++i) {
        const double v = x[static_cast<long>(l) * d + i];
        g[static_cast<long>(l) * d + i] = lam_[i] * v + q_ * ((v * v) * v);
      }
  }
  void hessian(const double* x, double* H) const override {
    const int d = dim();
    Eigen::Map<Matrix>(H, d, d).setZero();
    for (int i = 0; i < d; ++i) H[i * d + i] = lam_[i] + 3.0 * q_ * x[i] * x[i];
  }

 private:
  Vector lam_;
  double q_;
};

}  // namespace escapade
