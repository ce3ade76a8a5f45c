// Symmetric alpha-stable random numbers by the Chambers-Mallows-Stuck method, from two uniforms each.
//
// For V uniform on (-pi/2, pi/2) and W standard exponential,
//     X = sin(alpha V) / cos(V)^(1/alpha) * (cos((1 - alpha) V) / W)^((1 - alpha) / alpha)
// is S_alpha(1, 0, 0): E exp(i t X) = exp(-|t|^alpha) (scipy.stats.levy_stable(alpha, 0), scale 1; for beta = 0
// its S0 and S1 parameterizations agree). alpha = 2 gives X = 2 sqrt(W) sin V ~ N(0, 2) (note the variance 2),
// alpha = 1 gives X = tan V, the standard Cauchy law. V = pi (u_angle - 1/2), W = -log u_exp with uniforms in the
// open interval (0, 1), so cos V > 0 and W > 0. The tails are heavy: for alpha < 2, P(|X| > x) ~ c x^-alpha,
// and for small alpha X itself may overflow (P(|X| > 1.8e308) is 8e-4 at alpha = 0.01) where the step's scale
// times X does not: `fill` then forms the product in logarithms (StableScale). A product beyond the largest
// double is infinite, and the engine ends the path as diverged.
//
// std::log, std::sin, std::cos and std::pow give the same bits for the same build and input, so a lane's numbers
// do not depend on the thread count or block width; unlike mathfn.hpp they are not promised equal across
// machines or C libraries.
#pragma once

#include <cmath>
#include <limits>

#include "escapade/validate.hpp"

namespace escapade {

// The scale a step multiplies its S_alpha(1, 0, 0) numbers by, with its logarithm: LevyLangevin's
// sigma dt^(1/alpha) underflows to 0 for small alpha (alpha < 0.0062 at dt = 0.01) where its logarithm does not.
struct StableScale {
  double value;  // the product as computed (the bits of every draw that needs nothing else)
  double log;    // its logarithm, -inf for a zero scale
};

class SymmetricStable {
 public:
  explicit SymmetricStable(double alpha) : alpha_(alpha) {
    require(std::isfinite(alpha) && alpha > 0 && alpha <= 2, "alpha", alpha, "in (0, 2]");
    inv_alpha_ = 1.0 / alpha;
    tail_ = (1.0 - alpha) / alpha;
  }
  double alpha() const { return alpha_; }

  // One S_alpha(1, 0, 0) number from two uniforms in (0, 1).
  double operator()(double u_angle, double u_exp) const { return draw(angle(u_angle), -std::log(u_exp)); }

  // out[i] = scale X_i for n coordinates, coordinate i from the uniforms u[2 i] (angle) and u[2 i + 1]. Where X_i
  // overflowed or the scale under- or overflowed (to 0, a subnormal or inf, from a positive scale), exp(log scale +
  // log |X_i|) with X_i's sign: every other draw keeps the bits of the plain product.
  void fill(const double* u, int n, StableScale scale, double* out) const {
    const bool in_logs = !(scale.value >= kMinNormal && scale.value <= kMax) &&
                         scale.log > -std::numeric_limits<double>::infinity();
    for (int i = 0; i < n; ++i) {
      const double v = angle(u[2 * i]), w = -std::log(u[2 * i + 1]), x = draw(v, w);
      if (std::isfinite(x) && !in_logs) {
        out[i] = scale.value * x;
        continue;
      }
      // an infinite X comes from the general formula (alpha = 1 and 2 stay finite): its logarithm from there
      const double log_x = std::isfinite(x) ? std::log(std::abs(x)) : log_abs(v, w);
      out[i] = std::copysign(std::exp(scale.log + log_x), x);
    }
  }

 private:
  static double angle(double u_angle) { return kPi * (u_angle - 0.5); }

  // X from the angle v and the exponential w.
  double draw(double v, double w) const {
    if (alpha_ == 2.0) return 2.0 * std::sqrt(w) * std::sin(v);
    if (alpha_ == 1.0) return std::tan(v);
    const double s = std::sin(alpha_ * v), den = std::pow(std::cos(v), inv_alpha_),
                 tail = std::pow(std::cos(v - alpha_ * v) / w, tail_);
    if (den >= kMinNormal && tail <= kMax) return s / den * tail;
    // For small alpha a factor underflows or overflows where X does not: the product in logarithms (only here,
    // so that every other draw keeps its bits).
    return std::copysign(std::exp(log_abs(v, w)), s);
  }

  // log |X| from the angle v and the exponential w, every factor in logarithms.
  double log_abs(double v, double w) const {
    return std::log(std::abs(std::sin(alpha_ * v))) - inv_alpha_ * std::log(std::cos(v)) +
           tail_ * (std::log(std::cos(v - alpha_ * v)) - std::log(w));
  }

  static constexpr double kPi = 3.141592653589793, kMinNormal = 2.2250738585072014e-308,
                          kMax = 1.7976931348623157e308;
  double alpha_, inv_alpha_ = 0.5, tail_ = 0.0;
};

}  // namespace escapade
