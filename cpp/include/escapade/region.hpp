// Regions of state space and the Brownian-bridge test for crossings between two monitored steps.
//
// A path monitored only at t_k and t_{k+1} can leave a region and come back in between; discrete monitoring
// therefore overestimates exit times by O(sqrt(dt)). Over one step with drift frozen, the path is a Brownian
// bridge, and the probability that it crossed a plane at distances a0, a1 > 0 from its two end points is
//     p = exp(-2 a0 a1 / (sigma_n^2 dt)),       sigma_n^2 = n^T Sigma n, n the plane's unit normal
// (exact for a half-space with additive noise). Curved boundaries use their tangent plane (ball, box from
// outside); a box exit multiplies the survival probabilities of its faces.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "escapade/mathfn.hpp"
#include "escapade/perturbation.hpp"
#include "escapade/types.hpp"
#include "escapade/validate.hpp"

namespace escapade {

// Exponent of the crossing probability of a bridge whose end points are at distances a0, a1 (>= 0) from a
// plane: p = exp(q * c) with q = a0 a1 and c = -2 / var, var = sigma_n^2 dt the noise variance across the plane
// over the step (c = -inf without noise). Touching (q = 0) is crossing.
inline double bridge_exponent(double a0, double a1, double c) {
  const double q = a0 * a1;
  return q > 0 ? q * c : 0.0;
}

inline double exponent_factor(double var) { return var > 0 ? -2.0 / var : -std::numeric_limits<double>::infinity(); }

// Below exp(-30) ~ 1e-13 a crossing can never be drawn (the uniforms are >= 2^-33): such probabilities are
// set to exactly 0, lane by lane, so skipping the exponential changes no outcome and no bit.
constexpr double kNegligibleExponent = -30.0;

inline double probability_of_exponent(double e) { return e < kNegligibleExponent ? 0.0 : mathfn::exp(e); }

// Turn exponents into probabilities in place; a block with no lane near a boundary (the common case) skips
// the exponentials altogether.
inline void exponents_to_probabilities(double* p, int width) {
  // "Some lane at or above the threshold" as an integer OR of comparisons, which vectorizes; a running
  // floating-point max would be one serial chain of scalar max instructions (no reassociation without
  // fast-math). NaN lanes compare false either way.
  int near = 0;
  for (int l = 0; l < width; ++l) near |= p[l] >= kNegligibleExponent;
  if (!near) {
    for (int l = 0; l < width; ++l) p[l] = 0.0;
    return;
  }
  for (int l = 0; l < width; ++l) p[l] = probability_of_exponent(p[l]);
}

class Region {
 public:
  virtual ~Region() = default;
  virtual int dim() const = 0;
  virtual std::string name() const = 0;
  // Whether the point x (length dim) lies in the region.
  virtual bool contains(const double* x) const = 0;
  // inside[l] = contains(column l) for `width` points stored dim x width.
  virtual void contains(const double* x, int width, std::uint8_t* inside) const {
    for (int l = 0; l < width; ++l) inside[l] = contains(x + static_cast<long>(l) * dim());
  }
  // p[l] = probability that the bridge from x0[:, l] to x1[:, l] over a step dt crossed the boundary, for end
  // points that are both inside (from_inside) or both outside the region.
  virtual void crossing_probability(const double* x0, const double* x1, int width, const Diffusion& D, double dt,
                                    bool from_inside, double* p) const = 0;
};

// Lengths with a binary exponent beyond this (about 1e+-77) are rescaled by a power of two before they are squared:
// their squares, and the squares times a small noise variance, stay well inside the range of doubles.
constexpr int kExtremeExponent = 256;

inline double extreme_scale(double length) {
  const int e = std::ilogb(length);
  return e > kExtremeExponent || e < -kExtremeExponent ? std::ldexp(1.0, std::min(-e, 1023)) : 1.0;  // 2^1023: finite
}

// {x : normal . x < offset}. Leaving it means normal . x >= offset.
class HalfSpace final : public Region {
 public:
  HalfSpace(Vector normal, double offset) : n_(std::move(normal)), b_(offset) {
    require(n_.size() >= 1, "normal", "an empty vector", "a non-empty vector");
    require(n_.allFinite(), "normal", "a vector with NaN or inf", "finite");
    require(std::isfinite(offset), "offset", offset, "finite");
    const double largest = n_.cwiseAbs().maxCoeff();
    require(largest > 0, "normal", "the zero vector", "non-zero");
    // A normal whose length would over- or underflow (1e200, 1e-160) is rescaled with its offset by a power of
    // two: exact, so normal . x < offset keeps its meaning, and the length and the bridge's sigma_n^2 |n|^2
    // stay finite and non-zero. Ordinary normals are left as given, bit for bit.
    const double scale = extreme_scale(largest);
    if (scale != 1.0) {
      n_ *= scale;
      b_ *= scale;  // offset / |normal| below the smallest double rounds to it (or to 0)
    }
    norm_ = n_.norm();
    unit_ = n_ / norm_;
  }
  int dim() const override { return static_cast<int>(n_.size()); }
  std::string name() const override { return "HalfSpace"; }
  bool contains(const double* x) const override { return dot(x) < b_; }
  void contains(const double* x, int width, std::uint8_t* inside) const override {
    const int d = dim();
    if (d == 1) {
      const double n0 = n_[0], b = b_;  // locals: the byte stores could alias members
      for (int l = 0; l < width; ++l) inside[l] = n0 * x[l] < b;
      return;
    }
    for (int l = 0; l < width; ++l) inside[l] = dot(x + static_cast<long>(l) * d) < b_;
  }
  void crossing_probability(const double* x0, const double* x1, int width, const Diffusion& D, double dt, bool,
                            double* p) const override {
    // |distance| is the same formula from either side since only the product a0 * a1 enters.
    const int d = dim();
    const double c = exponent_factor(D.along(unit_.data(), d) * dt * norm_ * norm_);  // in units of normal . x
    if (d == 1) {
      const double n0 = n_[0];
      for (int l = 0; l < width; ++l) p[l] = bridge_exponent(b_ - n0 * x0[l], b_ - n0 * x1[l], c);
    } else {
      for (int l = 0; l < width; ++l) {
        const long o = static_cast<long>(l) * d;
        p[l] = bridge_exponent(b_ - dot(x0 + o), b_ - dot(x1 + o), c);
      }
    }
    exponents_to_probabilities(p, width);
  }

 private:
  double dot(const double* x) const {
    double s = 0;
    for (int i = 0; i < dim(); ++i) s += n_[i] * x[i];
    return s;
  }
  Vector n_, unit_;
  double b_, norm_;
};

// The open ball {x : |x - center| < radius}.
class Ball final : public Region {
 public:
  Ball(Vector center, double radius) : c_(std::move(center)), r_(radius) {
    require(c_.size() >= 1, "center", "an empty vector", "a non-empty vector");
    require(c_.allFinite(), "center", "a vector with NaN or inf", "finite");
    require(std::isfinite(radius) && radius > 0, "radius", radius, "a positive finite number");
    // Distances are measured in units of 1/s_, a power of two: s_ = 1 (no change to any bit) unless the radius
    // is so small or large (1e-170, 1e200) that its square would under- or overflow.
    s_ = extreme_scale(radius);
    r_ *= s_;
  }
  int dim() const override { return static_cast<int>(c_.size()); }
  std::string name() const override { return "Ball"; }
  bool contains(const double* x) const override { return dist2(x) < r_ * r_; }
  void crossing_probability(const double* x0, const double* x1, int width, const Diffusion& D, double dt,
                            bool from_inside, double* p) const override {
    const int d = dim();
    const double sign = from_inside ? 1.0 : -1.0;
    Vector n(d);
    for (int l = 0; l < width; ++l) {
      const long o = static_cast<long>(l) * d;
      if (!from_inside && segment_meets(x0 + o, x1 + o)) {  // the step's chord passes through: a sure crossing
        p[l] = 0.0;
        continue;
      }
      const double r0 = std::sqrt(dist2(x0 + o)), r1 = std::sqrt(dist2(x1 + o));
      double var = D.scalar * dt;
      if (!D.isotropic) {  // the tangent plane at the end point's radial direction
        for (int i = 0; i < d; ++i) n[i] = r1 > 0 ? (x1[o + i] - c_[i]) * s_ / r1 : (i == 0);
        var = D.along(n.data(), d) * dt;
      }
      p[l] = bridge_exponent(sign * (r_ - r0), sign * (r_ - r1), exponent_factor(var * s_ * s_));
    }
    exponents_to_probabilities(p, width);
  }

 private:
  // Whether the segment x0 -> x1 passes through the ball: its point closest to the center lies inside.
  bool segment_meets(const double* x0, const double* x1) const {
    double ee = 0, ec = 0;
    for (int i = 0; i < dim(); ++i) {
      const double e = (x1[i] - x0[i]) * s_;
      ee += e * e;
      ec += e * ((c_[i] - x0[i]) * s_);
    }
    const double t = ee > 0 ? std::min(1.0, std::max(0.0, ec / ee)) : 0.0;
    double q2 = 0;
    for (int i = 0; i < dim(); ++i) {
      const double q = (x0[i] + t * (x1[i] - x0[i]) - c_[i]) * s_;
      q2 += q * q;
    }
    return q2 < r_ * r_;
  }
  // The squared distance to the center, in units of 1/s_.
  double dist2(const double* x) const {
    double s = 0;
    for (int i = 0; i < dim(); ++i) {
      const double e = (x[i] - c_[i]) * s_;
      s += e * e;
    }
    return s;
  }
  Vector c_;
  double r_;       // the radius times s_
  double s_ = 1;   // a power of two, 1 for any ordinary radius
};

// The open box {x : low < x < high}, bounds may be infinite.
class Box final : public Region {
 public:
  Box(Vector low, Vector high) : lo_(std::move(low)), hi_(std::move(high)) {
    require(lo_.size() >= 1, "low", "an empty vector", "a non-empty vector");
    require(lo_.size() == hi_.size(), "high", "length " + std::to_string(hi_.size()),
            "of the same length as low (" + std::to_string(lo_.size()) + ")");
    for (int i = 0; i < dim(); ++i) {
      require(!std::isnan(lo_[i]) && !std::isnan(hi_[i]), "low/high", "NaN", "numbers (inf allowed)");
      require(lo_[i] < hi_[i], "low", lo_[i], "below high in every coordinate (coordinate " + std::to_string(i) + ")");
    }
  }
  int dim() const override { return static_cast<int>(lo_.size()); }
  std::string name() const override { return "Box"; }
  bool contains(const double* x) const override {
    bool in = true;
    for (int i = 0; i < dim(); ++i) in = in && lo_[i] < x[i] && x[i] < hi_[i];
    return in;
  }
  void crossing_probability(const double* x0, const double* x1, int width, const Diffusion& D, double dt,
                            bool from_inside, double* p) const override {
    const int d = dim();
    if (from_inside) {  // survive every face
      for (int l = 0; l < width; ++l) {
        const long o = static_cast<long>(l) * d;
        double survive = 1.0;
        for (int i = 0; i < d; ++i) {
          const double c = exponent_factor(D.component(i) * dt);
          survive *= 1.0 - probability_of_exponent(bridge_exponent(x0[o + i] - lo_[i], x1[o + i] - lo_[i], c));
          survive *= 1.0 - probability_of_exponent(bridge_exponent(hi_[i] - x0[o + i], hi_[i] - x1[o + i], c));
        }
        p[l] = 1.0 - survive;
      }
      return;
    }
    Vector n(d);  // from outside: the tangent plane at the point of the box nearest to x1
    for (int l = 0; l < width; ++l) {
      const long o = static_cast<long>(l) * d;
      if (segment_meets(x0 + o, x1 + o)) {  // the step's chord passes through: a sure crossing
        p[l] = 0.0;
        continue;
      }
      const double a0 = outside_distance(x0 + o, nullptr), a1 = outside_distance(x1 + o, n.data());
      p[l] = bridge_exponent(a0, a1, exponent_factor(D.along(n.data(), d) * dt));
    }
    exponents_to_probabilities(p, width);
  }

 private:
  // Whether the segment x0 -> x1 passes through the open box (Liang-Barsky clipping against each slab).
  bool segment_meets(const double* x0, const double* x1) const {
    double t0 = 0.0, t1 = 1.0;
    for (int i = 0; i < dim(); ++i) {
      const double e = x1[i] - x0[i];
      if (e == 0.0) {
        if (!(lo_[i] < x0[i] && x0[i] < hi_[i])) return false;
        continue;
      }
      double ta = (lo_[i] - x0[i]) / e, tb = (hi_[i] - x0[i]) / e;
      if (ta > tb) std::swap(ta, tb);
      t0 = std::max(t0, ta);
      t1 = std::min(t1, tb);
      if (!(t0 < t1)) return false;
    }
    return true;
  }
  // Distance from an outside point to the box, and the unit outward normal there when `normal` is given.
  double outside_distance(const double* x, double* normal) const {
    double s = 0;
    for (int i = 0; i < dim(); ++i) {
      const double e = x[i] < lo_[i] ? x[i] - lo_[i] : (x[i] > hi_[i] ? x[i] - hi_[i] : 0.0);
      if (normal) normal[i] = e;
      s += e * e;
    }
    s = std::sqrt(s);
    if (normal)
      for (int i = 0; i < dim(); ++i) normal[i] = s > 0 ? normal[i] / s : 0.0;
    return s;
  }
  Vector lo_, hi_;
};

}  // namespace escapade
