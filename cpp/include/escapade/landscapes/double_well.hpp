#pragma once

#include <cmath>

#include "escapade/landscape.hpp"

namespace escapade {

// f(x) = height sum_i (x_i^4 / 4 - x_i^2 / 2): minima at x_i = +-1, barrier height / 4 per coordinate at x_i = 0.
// height = 1 computes exactly what the landscape computed before it had a height (no multiplication).
class DoubleWell final : public Landscape {
 public:
  explicit DoubleWell(int dim = 1, double height = 1.0) : dim_(dim), h_(height) {
    require(dim >= 1, "dim", dim, "a positive integer");
    require(std::isfinite(height) && height > 0, "height", height, "a positive finite number");
  }
  double height() const { return h_; }
  int dim() const override { return dim_; }
  std::string name() const override { return "DoubleWell"; }
  double value(const double* x) const override {
    double f = 0;
    for (int i = 0; i < dim_; ++i) {
      const double s = x[i] * x[i];
      f += std::isinf(s) ? s : 0.25 * s * s - 0.5 * s;  // x^2 overflowed: inf, not inf - inf
    }
    return h_ == 1.0 ? f : h_ * f;
  }
  void gradient(const double* x, double* g, int width) const override {
    const long n = static_cast<long>(dim_) * width;
    if (h_ == 1.0) {
      for (long i = 0; i < n; ++i) g[i] = (x[i] * x[i]) * x[i] - x[i];
      return;
    }
    const double h = h_;
    for (long i = 0; i < n; ++i) g[i] = h * ((x[i] * x[i]) * x[i] - x[i]);
  }
  void hessian(const double* x, double* H) const override {
    Eigen::Map<Matrix>(H, dim_, dim_).setZero();
    for (int i = 0; i < dim_; ++i) H[i * dim_ + i] = h_ == 1.0 ? 3.0 * x[i] * x[i] - 1.0 : h_ * (3.0 * x[i] * x[i] - 1.0);
  }

 private:
  int dim_;
  double h_;
};

}  // namespace escapade
