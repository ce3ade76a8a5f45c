#pragma once

#include <cmath>

#include "escapade/landscape.hpp"

namespace escapade {

// The Ackley variant of 000 eq. (12), in n dimensions (the means over coordinates are 000's 1/2 sums for n = 2):
//   f(x) = a e^{-d} - a exp(-sqrt(|x|^2 / n + d^2)) + e - exp(sum_i cos(c x_i) / n),
// f(0) = 0 the global minimum; d > 0 smooths the cone of the classical Ackley function at the origin.
class Ackley final : public Landscape {
 public:
  Ackley(int dim, double a, double d, double c) : n_(dim), a_(a), d_(d), c_(c) {
    require(dim >= 1, "dim", dim, "a positive integer");
    require(std::isfinite(a), "a", a, "finite");
    require(std::isfinite(d) && d > 0, "d", d, "a positive finite number");
    require(std::isfinite(c), "c", c, "finite");
  }
  int dim() const override { return n_; }
  std::string name() const override { return "Ackley"; }
  double value(const double* x) const override {
    double sq = 0, cs = 0;
    for (int i = 0; i < n_; ++i) {
      sq += x[i] * x[i];
      cs += std::cos(c_ * x[i]);
    }
    const double r = std::sqrt(sq / n_ + d_ * d_);
    return (a_ * std::exp(-d_) - a_ * std::exp(-r)) + (std::exp(1.0) - std::exp(cs / n_));
  }
  void gradient(const double* x, double* g, int width) const override {
    const int n = n_;
    for (int l = 0; l < width; ++l) {
      const double* xl = x + static_cast<long>(l) * n;
      double* gl = g + static_cast<long>(l) * n;
      double sq = 0, cs = 0;
      for (int i = 0; i < n; ++i) {  // cos and sin of one argument side by side: one sincos call
        const double a = c_ * xl[i];
        sq += xl[i] * xl[i];
        cs += std::cos(a);
        gl[i] = std::sin(a);
      }
      const double r = std::sqrt(sq / n + d_ * d_);
      const double p = a_ * std::exp(-r) / (n * r), q = std::exp(cs / n) * c_ / n;
      for (int i = 0; i < n; ++i) gl[i] = p * xl[i] + q * gl[i];
    }
  }
  void hessian(const double* x, double* H) const override {
    const int n = n_;
    double sq = 0, cs = 0;
    for (int i = 0; i < n; ++i) {
      sq += x[i] * x[i];
      cs += std::cos(c_ * x[i]);
    }
    const double r = std::sqrt(sq / n + d_ * d_), er = a_ * std::exp(-r), es = std::exp(cs / n);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        const double ui = x[i] / (n * r), uj = x[j] / (n * r);
        const double dui = (i == j ? 1.0 / (n * r) : 0.0) - x[i] * x[j] / (n * n * r * r * r);
        const double si = -c_ * std::sin(c_ * x[i]) / n, sj = -c_ * std::sin(c_ * x[j]) / n;
        const double dsi = i == j ? -c_ * c_ * std::cos(c_ * x[i]) / n : 0.0;
        H[j * n + i] = er * (dui - ui * uj) - es * (si * sj + dsi);
      }
  }

 private:
  int n_;
  double a_, d_, c_;
};

}  // namespace escapade
