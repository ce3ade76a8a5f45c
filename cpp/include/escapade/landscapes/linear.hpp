#pragma once

#include "escapade/landscape.hpp"

namespace escapade {

// f(x) = c . x: a constant force -c (drift-diffusion with Langevin dynamics).
class Linear final : public Landscape {
 public:
  explicit Linear(Vector c) : c_(std::move(c)) {
    require(c_.size() >= 1, "slope", "an empty vector", "a non-empty vector");
    require(c_.allFinite(), "slope", "a vector with NaN or inf", "finite");
  }
  int dim() const override { return static_cast<int>(c_.size()); }
  std::string name() const override { return "Linear"; }
  double value(const double* x) const override {
    double f = 0;
    for (int i = 0; i < dim(); ++i) f += c_[i] * x[i];
    return f;
  }
  void gradient(const double*, double* g, int width) const override {
    const int d = dim();
    for (int l = 0; l < width; ++l)
      for (int i = 0; i < d; ++i) g[static_cast<long>(l) * d + i] = c_[i];
  }
  void hessian(const double*, double* H) const override { Eigen::Map<Matrix>(H, dim(), dim()).setZero(); }

 private:
  Vector c_;
};

}  // namespace escapade
