#pragma once

#include <cmath>
#include <vector>

#include "escapade/landscape.hpp"
#include "escapade/mathfn.hpp"

namespace escapade {

// The Ackley variant of 000 eq. (12), in n dimensions (the means over coordinates are 000's 1/2 sums for n = 2):
//   f(x) = a e^{-d} - a exp(-sqrt(|x|^2 / n + d^2)) + e - exp(sum_i cos(c x_i) / n),
// f(0) = 0 the global minimum; d > 0 smooths the cone of the classical Ackley function at the origin.
// exp, sin and cos are mathfn's: the same bits on every machine, and the gradient vectorizes across lanes.
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
      double c, s;
      mathfn::sincos(c_ * x[i], c, s);
      sq += x[i] * x[i];
      cs += c;
    }
    const double r = std::sqrt(sq / n_ + d_ * d_);
    return (a_ * mathfn::exp(-d_) - a_ * mathfn::exp(-r)) + (kE - mathfn::exp(cs / n_));
  }
  // In passes over the whole block (the sines and cosines of all coordinates, then the two exponentials of all
  // lanes), so that each pass vectorizes across lanes.
  void gradient(const double* x, double* g, int width) const override {
    switch (n_) {  // a known small dimension lets the per-lane passes vectorize across lanes too
      case 1: return gradient_n<1>(x, g, width);
      case 2: return gradient_n<2>(x, g, width);
      case 3: return gradient_n<3>(x, g, width);
      default: return gradient_n<0>(x, g, width);
    }
  }
  void hessian(const double* x, double* H) const override {
    const int n = n_;
    std::vector<double> arg(static_cast<std::size_t>(n)), cosv(arg.size()), sinv(arg.size());
    double sq = 0, cs = 0;
    for (int i = 0; i < n; ++i) {
      arg[i] = c_ * x[i];
      sq += x[i] * x[i];
    }
    mathfn::sincos(arg.data(), cosv.data(), sinv.data(), n);
    for (int i = 0; i < n; ++i) cs += cosv[i];
    const double r = std::sqrt(sq / n + d_ * d_), er = a_ * mathfn::exp(-r), es = mathfn::exp(cs / n);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        const double ui = x[i] / (n * r), uj = x[j] / (n * r);
        const double dui = (i == j ? 1.0 / (n * r) : 0.0) - x[i] * x[j] / (n * n * r * r * r);
        const double si = -c_ * sinv[i] / n, sj = -c_ * sinv[j] / n;
        const double dsi = i == j ? -c_ * c_ * cosv[i] / n : 0.0;
        H[j * n + i] = er * (dui - ui * uj) - es * (si * sj + dsi);
      }
  }

 private:
  // N > 0: the dimension known at compile time; N = 0: n_.
  template <int N>
  void gradient_n(const double* x, double* g, int width) const {
    const int n = N > 0 ? N : n_;
    const long size = static_cast<long>(n) * width;
    const double a = a_, c = c_, dd = d_ * d_;  // locals and restrict: the stores below cannot alias them
    thread_local std::vector<double> buf;
    buf.resize(static_cast<std::size_t>(2 * size + 2 * width));
    double* __restrict arg = buf.data();
    double* __restrict cosv = arg + size;
    double* __restrict e_r = cosv + size;
    double* __restrict e_c = e_r + width;
    for (long j = 0; j < size; ++j) arg[j] = c * x[j];
    mathfn::sincos(arg, cosv, g, size);  // g holds sin(c x) until the last pass
    for (int l = 0; l < width; ++l) {
      const double* xl = x + static_cast<long>(l) * n;
      const double* cl = cosv + static_cast<long>(l) * n;
      double sq = 0, cs = 0;
      for (int i = 0; i < n; ++i) {
        sq += xl[i] * xl[i];
        cs += cl[i];
      }
      arg[l] = std::sqrt(sq / n + dd);
      e_r[l] = -arg[l];
      e_c[l] = cs / n;
    }
    for (int l = 0; l < width; ++l) {
      e_r[l] = mathfn::exp(e_r[l]);
      e_c[l] = mathfn::exp(e_c[l]);
    }
    for (int l = 0; l < width; ++l) {
      const double p = a * e_r[l] / (n * arg[l]), q = e_c[l] * c / n;
      const double* xl = x + static_cast<long>(l) * n;
      double* gl = g + static_cast<long>(l) * n;
      for (int i = 0; i < n; ++i) gl[i] = p * xl[i] + q * gl[i];
    }
  }

  static constexpr double kE = 2.718281828459045;
  int n_;
  double a_, d_, c_;
};

}  // namespace escapade
