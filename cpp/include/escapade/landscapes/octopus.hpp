#pragma once

#include <cmath>
#include <limits>

#include "escapade/landscape.hpp"

namespace escapade {

// The "octopus" of Du, Jin, Lee, Jordan, Poczos & Singh (2017), "Gradient descent can take exponential time to
// escape saddle points": a C^2 function on a domain D of R^d with d strict saddles in a chain and one local
// minimum, which gradient descent from a random start in [-tau, tau]^d visits one after another.
//
// With y = |x| coordinatewise (f is even in every coordinate: the 2^d reflections of one arm are the octopus's
// arms), let k = the number of leading coordinates with y_1, ..., y_k >= 2 tau. On the domain
//   D = { y_j in [2 tau, 6 tau] for j <= k;  y_{k+1} in [0, 2 tau);  y_j in [0, tau] for j > k + 1 }
// (1-based; the k = d piece is [2 tau, 6 tau]^d) the function is, with i = k + 1 the active coordinate,
//   sum_{j<i} L (y_j - 4 tau)^2 - gamma y_i^2 + sum_{j>i} L y_j^2 - (i - 1) nu                 if y_i <= tau,
//   sum_{j<i} L (y_j - 4 tau)^2 + G(y_i, y_{i+1}) + sum_{j>i+1} L y_j^2 - (i - 1) nu           if tau < y_i < 2 tau,
//   sum_j L (y_j - 4 tau)^2 - d nu                                                              if k = d,
// with the splines G(a, b) = g1(a) + g2(a) b^2 (G = g1 when i = d),
//   g1(a) = -gamma a^2 + (10 gamma - 14 L) (a - tau)^3 / (3 tau) + (5 L - 3 gamma) (a - tau)^4 / (2 tau^2),
//   g2(a) = -gamma - (L + gamma) (10 s^3 + 15 s^4 + 6 s^5),  s = (a - 2 tau) / tau,
// and nu = 4 L tau^2 - g1(2 tau) = (37 L + 13 gamma) tau^2 / 6, which make the pieces meet with matching value,
// gradient and Hessian. Saddle i (i = 1..d) sits at (4 tau, ..., 4 tau, 0, ..., 0) with i - 1 entries 4 tau, its
// Hessian diagonal with 2 L, -2 gamma (coordinate i), 2 L; the minimum at (4 tau, ..., 4 tau).
// Outside D the function is not defined: value, gradient and Hessian are NaN (a simulated path that leaves D
// ends DIVERGED).
class Octopus final : public Landscape {
 public:
  Octopus(int dim, double L, double gamma, double tau) : d_(dim), L_(L), gamma_(gamma), tau_(tau) {
    require(dim >= 1, "dim", dim, ">= 1");
    require(std::isfinite(L) && L > 0, "L", L, "positive and finite");
    require(std::isfinite(gamma) && gamma > 0, "gamma", gamma, "positive and finite");
    require(std::isfinite(tau) && tau > 0, "tau", tau, "positive and finite");
    nu_ = 4.0 * L_ * tau_ * tau_ - g1(2.0 * tau_);
  }
  int dim() const override { return d_; }
  std::string name() const override { return "Octopus"; }
  double nu() const { return nu_; }

  // The number k of leading coordinates at or beyond 2 tau, or -1 when |x| lies outside D.
  int piece(const double* x) const {
    int k = 0;
    while (k < d_ && std::abs(x[k]) >= 2.0 * tau_) {
      if (!(std::abs(x[k]) <= 6.0 * tau_)) return -1;
      ++k;
    }
    if (k < d_ && !(std::abs(x[k]) < 2.0 * tau_)) return -1;  // NaN
    for (int j = k + 1; j < d_; ++j)
      if (!(std::abs(x[j]) <= tau_)) return -1;
    return k;
  }

  double value(const double* x) const override {
    const int k = piece(x);
    if (k < 0) return std::numeric_limits<double>::quiet_NaN();
    double f = -k * nu_;
    for (int j = 0; j < k; ++j) f += L_ * sq(std::abs(x[j]) - 4.0 * tau_);
    if (k == d_) return f;
    const double a = std::abs(x[k]);
    int rest = k + 1;
    if (a <= tau_) {
      f -= gamma_ * a * a;
    } else {
      f += g1(a);
      if (k + 1 < d_) f += g2(a) * x[k + 1] * x[k + 1];
      rest = k + 2;
    }
    for (int j = rest; j < d_; ++j) f += L_ * x[j] * x[j];
    return f;
  }

  void gradient(const double* x, double* g, int width) const override {
    for (int l = 0; l < width; ++l) gradient_one(x + static_cast<long>(l) * d_, g + static_cast<long>(l) * d_);
  }

  void hessian(const double* x, double* H) const override {
    Eigen::Map<Matrix> h(H, d_, d_);
    h.setZero();
    const int k = piece(x);
    if (k < 0) {
      h.setConstant(std::numeric_limits<double>::quiet_NaN());
      return;
    }
    for (int j = 0; j < d_; ++j) h(j, j) = 2.0 * L_;
    if (k == d_) return;
    const double a = std::abs(x[k]);
    if (a <= tau_) {
      h(k, k) = -2.0 * gamma_;
      return;
    }
    const double b = k + 1 < d_ ? x[k + 1] : 0.0;
    h(k, k) = g1pp(a) + g2pp(a) * b * b;
    if (k + 1 < d_) {
      // d/dx_k = sign(x_k) d/da; b enters as b^2, so its sign is already in b.
      const double cross = sgn(x[k]) * 2.0 * g2p(a) * b;
      h(k, k + 1) = cross;
      h(k + 1, k) = cross;
      h(k + 1, k + 1) = 2.0 * g2(a);
    }
  }

 private:
  static double sq(double v) { return v * v; }
  static double sgn(double v) { return v < 0 ? -1.0 : 1.0; }

  double g1(double a) const {
    const double u = a - tau_;
    return -gamma_ * a * a + (10.0 * gamma_ - 14.0 * L_) * u * u * u / (3.0 * tau_) +
           (5.0 * L_ - 3.0 * gamma_) * sq(u * u) / (2.0 * tau_ * tau_);
  }
  double g1p(double a) const {
    const double u = a - tau_;
    return -2.0 * gamma_ * a + (10.0 * gamma_ - 14.0 * L_) * u * u / tau_ +
           2.0 * (5.0 * L_ - 3.0 * gamma_) * u * u * u / (tau_ * tau_);
  }
  double g1pp(double a) const {
    const double u = a - tau_;
    return -2.0 * gamma_ + 2.0 * (10.0 * gamma_ - 14.0 * L_) * u / tau_ +
           6.0 * (5.0 * L_ - 3.0 * gamma_) * u * u / (tau_ * tau_);
  }
  double g2(double a) const {
    const double s = (a - 2.0 * tau_) / tau_;
    return -gamma_ - (L_ + gamma_) * s * s * s * (10.0 + s * (15.0 + 6.0 * s));
  }
  double g2p(double a) const {
    const double s = (a - 2.0 * tau_) / tau_;
    return -(L_ + gamma_) / tau_ * 30.0 * s * s * sq(1.0 + s);
  }
  double g2pp(double a) const {
    const double s = (a - 2.0 * tau_) / tau_;
    return -(L_ + gamma_) / (tau_ * tau_) * 60.0 * s * (1.0 + s) * (1.0 + 2.0 * s);
  }

  void gradient_one(const double* x, double* g) const {
    const int k = piece(x);
    if (k < 0) {
      for (int j = 0; j < d_; ++j) g[j] = std::numeric_limits<double>::quiet_NaN();
      return;
    }
    for (int j = 0; j < k; ++j) g[j] = 2.0 * L_ * (x[j] - sgn(x[j]) * 4.0 * tau_);
    if (k == d_) return;
    const double a = std::abs(x[k]);
    int rest = k + 1;
    if (a <= tau_) {
      g[k] = -2.0 * gamma_ * x[k];
    } else {
      const double b = k + 1 < d_ ? x[k + 1] : 0.0;
      g[k] = sgn(x[k]) * (g1p(a) + g2p(a) * b * b);
      if (k + 1 < d_) g[k + 1] = 2.0 * g2(a) * b;
      rest = k + 2;
    }
    for (int j = rest; j < d_; ++j) g[j] = 2.0 * L_ * x[j];
  }

  int d_;
  double L_, gamma_, tau_, nu_;
};

}  // namespace escapade
