#pragma once

#include <cmath>

#include "escapade/landscape.hpp"
#include "escapade/mathfn.hpp"

namespace escapade {

// f(x) = A sum_i (1 - cos(k x_i)), k = 2 pi / period: minima at the multiples of the period, barriers 2 A between
// them. The gradient A k sin(k x_i) uses mathfn's straight-line sincos, so the loop over lanes vectorizes as the
// polynomial landscapes' do (libm's sin would be one opaque call per coordinate).
class Cosine final : public Landscape {
 public:
  Cosine(int dim, double amplitude, double period) : dim_(dim), a_(amplitude), k_(2.0 * M_PI / period) {
    require(dim >= 1, "dim", dim, "a positive integer");
    require(std::isfinite(amplitude), "amplitude", amplitude, "finite");
    require(std::isfinite(period) && period > 0 && std::isfinite(k_), "period", period, "a positive finite number");
  }
  int dim() const override { return dim_; }
  std::string name() const override { return "Cosine"; }
  double value(const double* x) const override {
    double f = 0;
    for (int i = 0; i < dim_; ++i) f += a_ * (1.0 - std::cos(k_ * x[i]));
    return f;
  }
  void gradient(const double* x, double* g, int width) const override {
    const long n = static_cast<long>(dim_) * width;
    const double k = k_, ak = a_ * k_;
    long wide = 0;
    for (long i = 0; i < n; ++i) {
      const double t = k * x[i];
      const bool ok = std::abs(t) <= mathfn::kSincosMaxArg;  // false for NaN
      wide += !ok;
      double c, s;
      mathfn::sincos_reduced(ok ? t : 0.0, c, s);
      g[i] = ak * s;
    }
    if (wide)
      for (long i = 0; i < n; ++i)
        if (!(std::abs(k * x[i]) <= mathfn::kSincosMaxArg)) g[i] = ak * std::sin(k * x[i]);
  }
  void hessian(const double* x, double* H) const override {
    Eigen::Map<Matrix>(H, dim_, dim_).setZero();
    for (int i = 0; i < dim_; ++i) H[i * dim_ + i] = a_ * k_ * k_ * std::cos(k_ * x[i]);
  }

 private:
  int dim_;
  double a_, k_;
};

}  // namespace escapade
