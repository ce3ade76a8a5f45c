// The nearest point of a polyhedron {y : u_k . y <= c_k} (u_k unit vectors) to a point x, by Goldfarb and Idnani's
// dual active-set method (Math. Programming 27, 1983) with the identity as Hessian, in plain arithmetic (jacobi.hpp).
//
// y starts at x with no constraint active. Each violated constraint in turn, the most violated first, is made
// active: y moves against the part of its normal that the active normals leave free, and where an active
// constraint's multiplier would turn negative on the way, that one is dropped first. Throughout, y is the nearest
// point of the polyhedron of the constraints made active so far (the Karush-Kuhn-Tucker conditions hold), so the
// method ends at the nearest point once no constraint is violated, after a few steps per active face (where the
// enumeration of active sets it replaces tried up to 298 sets for 12 faces in 3-D). A violated constraint whose
// normal is minus a non-negative combination of the active normals (to within 1e-7 radians) shows the polyhedron
// empty, or too nearly degenerate to tell: either way no point is found.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "escapade/jacobi.hpp"

namespace escapade {

class NearestInPolyhedron {
 public:
  enum class Outcome { found, empty, stalled };

  // Forget the constraints; the next solve() starts from x (d).
  void reset(const double* x, int d) {
    d_ = d;
    x_.assign(x, x + d);
    normals_.clear();
    offsets_.clear();
  }
  // Add the constraint u . y <= c (u of unit length, d entries).
  void add(const double* u, double c) {
    normals_.insert(normals_.end(), u, u + d_);
    offsets_.push_back(c);
  }
  // Keep the first n constraints only.
  void truncate(int n) {
    normals_.resize(static_cast<std::size_t>(n) * d_);
    offsets_.resize(static_cast<std::size_t>(n));
  }
  int size() const { return static_cast<int>(offsets_.size()); }
  // The nearest point of the polyhedron to x, in point(): found once every constraint holds to `tolerance` times
  // the largest of its offset, the point's largest coordinate and x's (the rounding of u . y - c, and of the steps
  // from x to y); empty where the constraints exclude each other (to rounding); stalled after a cap of steps
  // (cycling through rounding, or normals so nearly dependent that the step cannot be trusted).
  Outcome solve(double tolerance) {
    double from = 0;
    for (int j = 0; j < d_; ++j) from = std::max(from, std::abs(x_[static_cast<std::size_t>(j)]));
    y_ = x_;
    active_.clear();
    lambda_.clear();
    const int n = size(), cap = 4 * (n + d_) + 8;
    for (int step = 0; step < cap; ++step) {
      double at = from;
      for (int j = 0; j < d_; ++j) at = std::max(at, std::abs(y_[static_cast<std::size_t>(j)]));
      int worst = -1;
      double most = 0;
      for (int k = 0; k < n; ++k) {
        const double c = offsets_[static_cast<std::size_t>(k)];
        const double s = plain_dot(normal(k), y_.data(), d_) - c;
        if (s > most && s > tolerance * std::max(at, std::abs(c)) && !active(k)) {
          most = s;
          worst = k;
        }
      }
      if (worst < 0) return Outcome::found;
      const Outcome made = make_active(worst, most, cap);
      if (made != Outcome::found) return made;
    }
    return Outcome::stalled;
  }
  const double* point() const { return y_.data(); }
  // Whether constraint k is active at point() (its multiplier positive).
  bool active(int k) const { return std::find(active_.begin(), active_.end(), k) != active_.end(); }

 private:
  const double* normal(int k) const { return normals_.data() + static_cast<long>(k) * d_; }

  // Goldfarb and Idnani's step for a violated constraint p (violation s > 0) with the identity as Hessian: r solves
  // G r = N^T u_p (G = N^T N, N the active normals), z = u_p - N r is u_p's part free of them; y moves by -t z,
  // the active multipliers by -t r and p's by +t, which keeps the active constraints active and reduces p's
  // violation by t |z|^2. t is the smaller of the full step s / |z|^2 (p joins the active set) and the partial step
  // at which an active multiplier reaches zero (that constraint leaves it, and the step repeats).
  Outcome make_active(int p, double s, int cap) {
    const double* up = normal(p);
    double lp = 0;
    for (int step = 0; step < cap; ++step) {
      const int q = static_cast<int>(active_.size());
      r_.assign(static_cast<std::size_t>(q), 0.0);
      if (q > 0 && !solve_gram(up, q)) return Outcome::stalled;
      z_.assign(up, up + d_);
      for (int i = 0; i < q; ++i) {
        const double* ua = normal(active_[static_cast<std::size_t>(i)]);
        for (int j = 0; j < d_; ++j) z_[static_cast<std::size_t>(j)] -= r_[static_cast<std::size_t>(i)] * ua[j];
      }
      const double zz = plain_squared_norm(z_.data(), d_);
      constexpr double inf = std::numeric_limits<double>::infinity();
      const double full = zz > kDependent ? s / zz : inf;
      double partial = inf;
      int leaving = -1;
      for (int i = 0; i < q; ++i) {
        const double ri = r_[static_cast<std::size_t>(i)];
        if (ri > kDependent && lambda_[static_cast<std::size_t>(i)] / ri < partial) {
          partial = lambda_[static_cast<std::size_t>(i)] / ri;
          leaving = i;
        }
      }
      if (full == inf && partial == inf) return Outcome::empty;  // u_p = N r with r <= 0: p excludes the others
      const double t = std::min(full, partial);
      for (int j = 0; j < d_; ++j) y_[static_cast<std::size_t>(j)] -= t * z_[static_cast<std::size_t>(j)];
      for (int i = 0; i < q; ++i) lambda_[static_cast<std::size_t>(i)] -= t * r_[static_cast<std::size_t>(i)];
      lp += t;
      s -= t * zz;
      if (full <= partial) {
        active_.push_back(p);
        lambda_.push_back(lp);
        return Outcome::found;
      }
      active_.erase(active_.begin() + leaving);
      lambda_.erase(lambda_.begin() + leaving);
    }
    return Outcome::stalled;
  }
  // r = G^-1 N^T u_p by Cholesky; false where G is not safely positive definite.
  bool solve_gram(const double* up, int q) {
    const std::size_t qq = static_cast<std::size_t>(q);
    gram_.resize(qq * qq);
    factor_.resize(qq * qq);
    for (int i = 0; i < q; ++i) {
      const double* ui = normal(active_[static_cast<std::size_t>(i)]);
      r_[static_cast<std::size_t>(i)] = plain_dot(ui, up, d_);
      for (int j = 0; j <= i; ++j)
        gram_[static_cast<std::size_t>(i + j * q)] = plain_dot(ui, normal(active_[static_cast<std::size_t>(j)]), d_);
    }
    if (!plain_cholesky(gram_.data(), factor_.data(), q)) return false;
    const auto L = [&](int i, int j) { return factor_[static_cast<std::size_t>(i + j * q)]; };
    for (int i = 0; i < q; ++i) {  // L w = b, then L^T r = w
      if (!(L(i, i) * L(i, i) > kDependent)) return false;
      for (int j = 0; j < i; ++j) r_[static_cast<std::size_t>(i)] -= L(i, j) * r_[static_cast<std::size_t>(j)];
      r_[static_cast<std::size_t>(i)] /= L(i, i);
    }
    for (int i = q - 1; i >= 0; --i) {
      for (int j = i + 1; j < q; ++j) r_[static_cast<std::size_t>(i)] -= L(j, i) * r_[static_cast<std::size_t>(j)];
      r_[static_cast<std::size_t>(i)] /= L(i, i);
    }
    return true;
  }

  // |z|^2 (of a unit normal's free part) and Cholesky pivots below this count as dependence: normals within
  // 1e-7 radians of the active ones' span.
  static constexpr double kDependent = 1e-14;
  int d_ = 0;
  std::vector<double> x_, y_, normals_, offsets_, lambda_, r_, z_, gram_, factor_;
  std::vector<int> active_;
};

}  // namespace escapade
