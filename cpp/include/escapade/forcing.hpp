// Time-dependent forcing w(t) added to a drift: x' = U(x) + w(t) (000 eq. (7)).
//
// Every forcing is a pure function of (t, seed, path): random forcings draw their numbers from the counter-based
// generator at step fields the engine never uses (2^47 and above; its quads stay below 2^46), so w(t) can
// be evaluated at any time, in any order -- at the stages of an adaptive integrator as well as on a fixed grid
// -- and is the same for any thread count.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "escapade/rng.hpp"
#include "escapade/types.hpp"
#include "escapade/validate.hpp"

namespace escapade {

class Forcing {
 public:
  virtual ~Forcing() = default;
  virtual int dim() const = 0;
  virtual std::string name() const = 0;
  // w = w(t) (dim values) for path `path` of the run with seed `seed`.
  virtual void eval(double t, std::uint64_t seed, std::uint64_t path, double* w) const = 0;
  // w(t_l) for `width` lanes (w is width x dim, lane-major); path may be null (path 0). The same bits as eval.
  virtual void eval_lanes(const double* t, std::uint64_t seed, const std::uint64_t* path, int width,
                          double* w) const {
    for (int l = 0; l < width; ++l) eval(t[l], seed, path ? path[l] : 0, w + static_cast<long>(l) * dim());
  }
};

// Step fields of the forcing streams.
constexpr std::uint64_t kBrownianStep = std::uint64_t{1} << 47;                     // + node index (< 2^45)
constexpr std::uint64_t kDirectionStep = kBrownianStep + (std::uint64_t{1} << 45);  // + piece index (< 2^45)
constexpr std::uint64_t kMaxForcingIndex = (std::uint64_t{1} << 45) - 1;

// w(t) = A M [cos(omega t + phase), sin(omega t + phase)] with an n x 2 matrix M (a plane: two unit vectors).
class PeriodicForcing final : public Forcing {
 public:
  PeriodicForcing(Matrix M, double amplitude, double omega, double phase)
      : M_(std::move(M)), a_(amplitude), omega_(omega), phase_(phase) {
    require(M_.rows() >= 1 && M_.cols() == 2 && M_.allFinite(), "directions", "not a finite n x 2 matrix",
            "a finite n x 2 matrix");
    require(std::isfinite(amplitude), "amplitude", amplitude, "finite");
    require(std::isfinite(omega), "omega", omega, "finite");
    require(std::isfinite(phase), "phase", phase, "finite");
  }
  int dim() const override { return static_cast<int>(M_.rows()); }
  std::string name() const override { return "Periodic"; }
  void eval(double t, std::uint64_t seed, std::uint64_t path, double* w) const override {
    eval_lanes(&t, seed, &path, 1, w);
  }
  // cos and sin of all lanes' phases in one vectorized pass (mathfn's, the same bits on every machine).
  void eval_lanes(const double* t, std::uint64_t, const std::uint64_t*, int width, double* w) const override {
    thread_local std::vector<double> buf;
    buf.resize(static_cast<std::size_t>(3 * width));
    double *arg = buf.data(), *c = arg + width, *s = c + width;
    for (int l = 0; l < width; ++l) arg[l] = omega_ * t[l] + phase_;
    mathfn::sincos(arg, c, s, width);
    if (dim() == 2) return combine<2>(c, s, width, w);
    combine<0>(c, s, width, w);
  }

 private:
  template <int N>  // N > 0: the dimension known at compile time, so that the loop over lanes vectorizes
  void combine(const double* c, const double* s, int width, double* w) const {
    const int n = N > 0 ? N : dim();
    const double a = a_;
    const double* m0 = M_.col(0).data();
    const double* m1 = M_.col(1).data();
    for (int l = 0; l < width; ++l)
      for (int i = 0; i < n; ++i) w[static_cast<long>(l) * n + i] = m0[i] * (a * c[l]) + m1[i] * (a * s[l]);
  }

  Matrix M_;
  double a_, omega_, phase_;
};

// w(t) = scale B(t), B an n-dimensional standard Brownian motion with B(0) = 0, one per path (000, Lemma 2).
// Built by Levy's midpoint construction on [0, horizon]: B(horizon) = sqrt(horizon) Z_0, and the midpoint of a
// dyadic interval [a, b] is (B(a) + B(b)) / 2 + sqrt((b - a) / 4) Z_k, Z_k the n normals of node k (heap order:
// node 1 is [0, horizon], node k's halves are 2k and 2k + 1). After `levels` halvings B is interpolated
// linearly, so w is the exact Brownian path at the 2^levels + 1 dyadic times and piecewise linear between them.
// Each node's normals come from (seed, path, node). Beyond the horizon B is held at B(horizon).
//
// A walk from the root costs levels + 1 nodes; each thread instead keeps, per path, the chain of intervals from
// the root to the last leaf it visited, climbs only as far as the new time needs and descends from there. Times
// that advance by a step cost O(1) nodes amortized (like incrementing a binary counter), and every value is the
// same arithmetic on the same inputs as the walk from the root, so the bits do not depend on the order of calls.
class BrownianForcing final : public Forcing {
 public:
  BrownianForcing(int dim, double scale, double horizon, int levels)
      : n_(dim), scale_(scale), T_(horizon), L_(levels), id_(next_id()) {
    require(dim >= 1 && dim <= kMaxStreamDim, "dim", dim,
            "a positive integer up to " + std::to_string(kMaxStreamDim) + " (one stream's normals)");
    require(std::isfinite(scale), "scale", scale, "finite");
    require(std::isfinite(horizon) && horizon > 0, "horizon", horizon, "a positive finite number");
    require(levels >= 0 && levels <= 40, "levels", levels, "between 0 and 40");
  }
  int dim() const override { return n_; }
  std::string name() const override { return "Brownian"; }
  int levels() const { return L_; }
  void eval(double t, std::uint64_t seed, std::uint64_t path, double* w) const override {
    Chain& c = chain(seed, path);
    const double tc = std::min(std::max(t, 0.0), T_);
    int level = c.depth;
    while (level > 0 && !c.covers(level, tc, T_)) --level;  // climb: level 0, the root, covers [0, horizon]
    for (; level < L_; ++level) descend(c, level, tc, seed, path);
    c.depth = L_;
    const double a = c.a[L_], b = c.b[L_];
    const double* Ba = c.Ba(L_);
    const double* Bb = c.Bb(L_);
    const double theta = b > a ? (tc - a) / (b - a) : 0.0;
    for (int i = 0; i < n_; ++i) w[i] = scale_ * (Ba[i] + theta * (Bb[i] - Ba[i]));
  }

 private:
  // The intervals [a[l], b[l]] from the root (l = 0) to the leaf (l = levels), their nodes and the values of B at
  // their ends (B[2 n l .. 2 n l + n) at a[l], the next n at b[l]).
  struct Chain {
    std::uint64_t owner = 0, seed = 0, path = 0;
    int depth = -1;  // the deepest valid level; -1: none
    std::vector<double> a, b, B;
    std::vector<std::uint64_t> node;
    double* Ba(int l) { return B.data() + static_cast<std::size_t>(2 * l) * n; }
    double* Bb(int l) { return Ba(l) + n; }
    int n = 0;
    // Whether the walk from the root to time tc passes through level l's interval: it goes right at a midpoint
    // m when tc >= m, so an interval holds [a, b), and the last one also its end, the horizon.
    bool covers(int l, double tc, double horizon) const {
      return a[l] <= tc && (tc < b[l] || b[l] == horizon);
    }
  };

  static std::uint64_t next_id() {
    static std::atomic<std::uint64_t> counter{0};
    return ++counter;
  }

  // This thread's chain for (seed, path): one slot per path modulo the table size (a block's lanes have
  // consecutive paths, so they do not collide); a slot of another forcing, seed or path restarts at the root.
  Chain& chain(std::uint64_t seed, std::uint64_t path) const {
    constexpr std::size_t kSlots = 256;
    thread_local std::vector<Chain> table(kSlots);
    Chain& c = table[path % kSlots];
    if (c.owner == id_ && c.seed == seed && c.path == path && c.depth >= 0) return c;
    c.owner = id_;
    c.seed = seed;
    c.path = path;
    c.n = n_;
    c.a.resize(static_cast<std::size_t>(L_ + 1));
    c.b.resize(static_cast<std::size_t>(L_ + 1));
    c.node.resize(static_cast<std::size_t>(L_ + 1));
    c.B.resize(static_cast<std::size_t>(2 * (L_ + 1)) * n_);
    double* Ba = c.Ba(0);
    double* Bb = c.Bb(0);
    normals(seed, path, 0, Bb);
    for (int i = 0; i < n_; ++i) {
      Ba[i] = 0.0;
      Bb[i] = std::sqrt(T_) * Bb[i];
    }
    c.a[0] = 0.0;
    c.b[0] = T_;
    c.node[0] = 1;
    c.depth = 0;
    return c;
  }

  // Level l + 1 of c: the half of level l's interval that holds tc, with B at its new end from node l's normals.
  void descend(Chain& c, int l, double tc, std::uint64_t seed, std::uint64_t path) const {
    const double a = c.a[l], b = c.b[l];
    const double mid = 0.5 * (a + b), sd = std::sqrt(0.25 * (b - a));
    const bool right = tc >= mid;
    const double* Ba = c.Ba(l);
    const double* Bb = c.Bb(l);
    double* Ca = c.Ba(l + 1);
    double* Cb = c.Bb(l + 1);
    double* z = right ? Ca : Cb;  // the new end's slot receives the normals first
    normals(seed, path, c.node[l], z);
    for (int i = 0; i < n_; ++i) {
      const double Bm = 0.5 * (Ba[i] + Bb[i]) + sd * z[i];
      Ca[i] = right ? Bm : Ba[i];
      Cb[i] = right ? Bb[i] : Bm;
    }
    c.a[l + 1] = right ? mid : a;
    c.b[l + 1] = right ? b : mid;
    c.node[l + 1] = 2 * c.node[l] + (right ? 1 : 0);
  }

  void normals(std::uint64_t seed, std::uint64_t path, std::uint64_t node, double* z) const {
    WordStream rs(seed, path, kBrownianStep + node);
    for (int i = 0; i < n_; ++i) z[i] = rs.normal();
  }
  int n_;
  double scale_, T_;
  int L_;
  std::uint64_t id_;  // tells this forcing's cached chains from another's
};

// w(t) = A v_k for t in [k tau, (k + 1) tau): v_k uniform on the unit sphere (a normal vector over its length),
// drawn from (seed, path, k), so a new independent direction every tau.
class RandomDirectionForcing final : public Forcing {
 public:
  RandomDirectionForcing(int dim, double amplitude, double tau) : n_(dim), a_(amplitude), tau_(tau) {
    require(dim >= 1 && dim <= kMaxStreamDim, "dim", dim,
            "a positive integer up to " + std::to_string(kMaxStreamDim) + " (one stream's normals)");
    require(std::isfinite(amplitude), "amplitude", amplitude, "finite");
    require(std::isfinite(tau) && tau > 0, "tau", tau, "a positive finite number");
  }
  int dim() const override { return n_; }
  std::string name() const override { return "RandomDirections"; }
  double tau() const { return tau_; }
  void eval(double t, std::uint64_t seed, std::uint64_t path, double* w) const override {
    const double k = t > 0 ? std::floor(t / tau_) : 0.0;  // also 0 for NaN (an idle lane's garbage time)
    const std::uint64_t piece = static_cast<std::uint64_t>(std::min(k, static_cast<double>(kMaxForcingIndex)));
    WordStream rs(seed, path, kDirectionStep + piece);
    const double n2 = rs.direction_normals(w, n_);
    const double s = n2 > 0 ? a_ / std::sqrt(n2) : 0.0;
    for (int i = 0; i < n_; ++i) w[i] *= s;
  }

 private:
  int n_;
  double a_, tau_;
};

// w(t) interpolated linearly in a table of samples (times t_0 < t_1 < ... and values W, K x n); held at the
// first and last values outside [t_0, t_{K-1}].
class TableForcing final : public Forcing {
 public:
  TableForcing(Vector times, Matrix values) : t_(std::move(times)), W_(std::move(values)) {
    require(t_.size() >= 1 && t_.allFinite(), "times", "empty or non-finite", "a finite, non-empty vector");
    require(W_.rows() == t_.size() && W_.cols() >= 1, "values",
            std::to_string(W_.rows()) + " x " + std::to_string(W_.cols()),
            "a K x n array with one row per time (K = " + std::to_string(t_.size()) + ")");
    require(W_.allFinite(), "values", "an array with NaN or inf", "finite");
    for (long k = 1; k < t_.size(); ++k) require(t_[k] > t_[k - 1], "times", "not increasing", "strictly increasing");
  }
  int dim() const override { return static_cast<int>(W_.cols()); }
  std::string name() const override { return "Table"; }
  void eval(double t, std::uint64_t, std::uint64_t, double* w) const override {
    const long K = t_.size();
    if (!(t > t_[0])) {
      for (int i = 0; i < dim(); ++i) w[i] = W_(0, i);
      return;
    }
    if (t >= t_[K - 1]) {
      for (int i = 0; i < dim(); ++i) w[i] = W_(K - 1, i);
      return;
    }
    const long k = static_cast<long>(std::upper_bound(t_.data(), t_.data() + K, t) - t_.data()) - 1;  // t_k <= t < t_{k+1}
    const double th = (t - t_[k]) / (t_[k + 1] - t_[k]);
    for (int i = 0; i < dim(); ++i) w[i] = W_(k, i) + th * (W_(k + 1, i) - W_(k, i));
  }

 private:
  Vector t_;
  Matrix W_;
};

// w(t) = w0 + rate t: a linear ramp, e.g. a tilt that grows in time (f(x, t) = f(x) - (w0 + rate t) . x).
class RampForcing final : public Forcing {
 public:
  RampForcing(Vector start, Vector rate) : w0_(std::move(start)), r_(std::move(rate)) {
    require(w0_.size() >= 1 && w0_.allFinite(), "start", "empty or non-finite", "a finite, non-empty vector");
    require(r_.size() == w0_.size() && r_.allFinite(), "rate", "of length " + std::to_string(r_.size()),
            "a finite vector of the length of start (" + std::to_string(w0_.size()) + ")");
  }
  int dim() const override { return static_cast<int>(w0_.size()); }
  std::string name() const override { return "Ramp"; }
  void eval(double t, std::uint64_t, std::uint64_t, double* w) const override {
    for (int i = 0; i < dim(); ++i) w[i] = w0_[i] + r_[i] * t;
  }

 private:
  Vector w0_, r_;
};

}  // namespace escapade
