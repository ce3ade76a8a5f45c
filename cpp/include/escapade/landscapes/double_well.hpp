#pragma once

#include "escapade/landscape.hpp"

namespace escapade {

// f(x) = sum_i (x_i^4 / 4 - x_i^2 / 2): minima at x_i = +-1, barrier 1/4 per coordinate at x_i = 0.
class DoubleWell final : public Landscape {
 public:
  explicit DoubleWell(int dim = 1) : dim_(dim) { require(dim >= 1, "dim", dim, "a positive integer"); }
  int dim() const override { return dim_; }
  std::string name() const override { return "DoubleWell"; }
  double value(const double* x) const override {
    double f = 0;
    for (int i = 0; i < dim_; ++i) f += 0.25 * (x[i] * x[i]) * (x[i] * x[i]) - 0.5 * (x[i] * x[i]);
    return f;
  }
  void gradient(const double* x, double* g, int width) const override {
    const long n = static_cast<long>(dim_) * width;
    for (long i = 0; i < n; ++i) g[i] = (x[i] * x[i]) * x[i] - x[i];
  }
  void hessian(const double* x, double* H) const override {
    Eigen::Map<Matrix>(H, dim_, dim_).setZero();
    for (int i = 0; i < dim_; ++i) H[i * dim_ + i] = 3.0 * x[i] * x[i] - 1.0;
  }

 private:
  int dim_;
};

}  // namespace escapade
