// Regions of state space and the Brownian-bridge test for crossings between two monitored steps.
//
// A path monitored only at t_k and t_{k+1} can leave a region and come back in between; discrete monitoring
// therefore overestimates exit times by O(sqrt(dt)). Over one step with drift frozen, the path is a Brownian
// bridge, and the probability that it crossed a plane at distances a0, a1 > 0 from its two end points is
//     p = exp(-2 a0 a1 / (sigma_n^2 dt)),       sigma_n^2 = n^T Sigma n, n the plane's unit normal
// (exact for a half-space with additive noise). Curved boundaries use their tangent plane (ball, box from
// outside); a box exit multiplies the survival probabilities of its faces.
//
// Given that the bridge crossed, the time of its first crossing is sampled inside the step (crossing_time) and the
// exit placed on the boundary (crossing_plane, to_boundary): the engine reports a located exit there.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "escapade/jacobi.hpp"
#include "escapade/kernels.hpp"
#include "escapade/mathfn.hpp"
#include "escapade/perturbation.hpp"
#include "escapade/polyhedron.hpp"
#include "escapade/types.hpp"
#include "escapade/validate.hpp"

namespace escapade {

// Exponent of the crossing probability of a bridge whose end points are at distances a0, a1 (>= 0) from a
// plane: p = exp(q * c) with q = a0 a1 and c = -2 / var, var = sigma_n^2 dt the noise variance across the plane
// over the step (c = -inf without noise). Ends on both sides (q < 0) is a sure crossing. Touching (q = 0) is
// crossing where there is noise across the plane (Brownian motion from a point of the plane crosses it at once);
// without, the path is the chord, which touches the plane at an end only and leaves the ends to the test of the end
// points (a start on a target's face moving away from it never enters it).
inline double bridge_exponent(double a0, double a1, double c) {
  const double q = a0 * a1;
  return q > 0 ? q * c : q < 0 || c > -std::numeric_limits<double>::infinity() ? 0.0 : c;
}

inline double exponent_factor(double var) { return var > 0 ? -2.0 / var : -std::numeric_limits<double>::infinity(); }

// Below exp(-30) ~ 1e-13 a crossing can never be drawn (the uniforms are >= 2^-33): such probabilities are
// set to exactly 0, lane by lane, so skipping the exponential changes no outcome and no bit.
constexpr double kNegligibleExponent = -30.0;

// One lane's probability: the exponential only where it is not negligible.
inline double probability_of_exponent(double e) { return e < kNegligibleExponent ? 0.0 : mathfn::exp(e); }

// The same number for a loop over lanes: the exponential of every lane, then the select, marked likely, as
// mathfn::exp takes its own (else the lane loop stays scalar without AVX-512; x86-64-v3 on Zen 4: 7.9 -> 2.8 ns a
// lane where every lane is near; the same bits).
inline double probability_of_exponent_lane(double e) {
  const double p = mathfn::exp(e);
  return ESCAPADE_LIKELY(!(e < kNegligibleExponent)) ? p : 0.0;
}

// Turn exponents into probabilities in place. The exponentials are skipped for every vector of 8 lanes with no
// lane near a boundary: the common case, even in blocks where some lane is near.
inline void exponents_to_probabilities(double* p, int width) {
  constexpr int kVector = 8, kBatch = 64;  // lanes per test (one AVX-512 or two AVX2 registers), per flag pass
  for (int first = 0; first < width; first += kBatch) {
    const int n = std::min(kBatch, width - first);
    double* q = p + first;
    // One byte per lane, "at or above the threshold", in a pass that vectorizes (NaN lanes compare false); then
    // 8 lanes' bytes read as one word.
    std::uint8_t near[kBatch] = {};
    for (int l = 0; l < n; ++l) near[l] = q[l] >= kNegligibleExponent;
    for (int c = 0; c < n; c += kVector) {
      std::uint64_t any;
      std::memcpy(&any, near + c, sizeof any);
      double* v = q + c;
      if (c + kVector <= n) {  // a constant trip count: the loops below are one vector each
        // The number of lanes near: each byte of `any` is 0 or 1, and the product sums them into the top byte.
        const int near_lanes = static_cast<int>((any * 0x0101010101010101ull) >> 56);
        if (near_lanes == 0) {
          for (int l = 0; l < kVector; ++l) v[l] = 0.0;
        } else if (near_lanes >= 3) {  // every lane's exponential (a vector pass, without AVX-512 too)
          for (int l = 0; l < kVector; ++l) v[l] = probability_of_exponent_lane(v[l]);
        } else {  // one or two lanes' only: fewer without AVX-512 (x86-64-v3: 16 against 25 ns for one lane)
          for (int l = 0; l < kVector; ++l) v[l] = probability_of_exponent(v[l]);
        }
      } else {
        for (int l = 0; l < n - c; ++l) v[l] = any == 0 ? 0.0 : probability_of_exponent(v[l]);
      }
    }
  }
}

// An interval [lo, hi] of the parameter s of a chord x0 + s (x1 - x0) (Region::chord_inside).
using Interval = std::pair<double, double>;

// The interval of s in [0, 1] where a s^2 + 2 b s + c < 0 (a >= 0: a ball's or an ellipsoid's chord), appended
// to out if not empty.
inline void quadratic_chord(double a, double b, double c, std::vector<Interval>& out) {
  if (!(a > 0)) {  // a point: inside or not
    if (c < 0) out.emplace_back(0.0, 1.0);
    return;
  }
  const double disc = b * b - a * c;
  if (!(disc > 0)) return;
  const double root = std::sqrt(disc), lo = std::max(0.0, (-b - root) / a), hi = std::min(1.0, (-b + root) / a);
  if (lo < hi) out.emplace_back(lo, hi);
}

// The plane a crossing between two monitored steps is measured against, for one lane: the distances of the
// step's end points from it, a0 >= 0 on the side the path starts the step on and a1 (> 0: same side; <= 0: beyond
// the plane), the noise variance across the plane over the step (sigma_n^2 dt), and which face it is (0 for
// regions with one boundary; for a Box 2*i for the face low[i], 2*i+1 for high[i]). Distances and variance may be
// in any common unit (only a0 / a1 and a0^2 / var matter).
// `entry`: for the tangent plane where the step's chord enters a curved region (entry_plane), the chord's
// fraction there (the crossing is then placed from that side, Region::to_entered_boundary); else -1.
// `nearest`: the tangent plane at a convex set's nearest point to the step's end (Intersection::nearest_plane),
// where the crossing is moved onto the set itself (Region::to_set_boundary).
// `corner`: for a way in beyond two faces at once (Intersection::corner_plane: a union's re-entrant corner, left
// between two members), the second face; the crossing is placed on both. Else -1.
struct CrossingPlane {
  double a0, a1, var;
  int face;
  double entry = -1.0;
  bool nearest = false;
  int corner = -1;
};

// c with its faces numbered within a set whose member's faces start at `offset`.
inline CrossingPlane shifted(CrossingPlane c, int offset) {
  c.face += offset;
  if (c.corner >= 0) c.corner += offset;
  return c;
}

// The probability that the step's bridge crossed the plane c.
inline double plane_probability(const CrossingPlane& c) {
  return probability_of_exponent(bridge_exponent(c.a0, c.a1, exponent_factor(c.var)));
}

// m (d numbers, any length, not all zero) scaled to a unit vector, by its largest |m_i| first so that no square
// under- or overflows; all zero gives the first axis.
inline void to_unit(double* m, int d) {
  double big = 0, norm2 = 0;
  for (int i = 0; i < d; ++i) big = std::max(big, std::abs(m[i]));
  for (int i = 0; i < d; ++i) {
    m[i] = big > 0 ? m[i] / big : (i == 0);
    norm2 += m[i] * m[i];
  }
  const double k = 1.0 / std::sqrt(norm2);
  for (int i = 0; i < d; ++i) m[i] *= k;
}

// The tangent plane where the chord x0 -> x1 enters a convex region at fraction s of the step, m (d numbers, any
// length, either sign, overwritten by the unit vector) normal to the boundary there: a0 = s |m . (x1 - x0)| before
// it, a1 = -(1 - s) |m . (x1 - x0)| beyond, all in units of x times `scale`. For a chord that passes through the
// region from outside to outside, where the plane at the end point's nearest boundary point has both ends on one
// side (no crossing order against another boundary, and a placement on the far side).
inline CrossingPlane entry_plane(const double* x0, const double* x1, double s, double* m, int d, const Diffusion& D,
                                 double dt, double scale) {
  to_unit(m, d);
  double along = 0;
  for (int i = 0; i < d; ++i) along += m[i] * (x1[i] - x0[i]) * scale;
  along = std::abs(along);
  return {s * along, -(1.0 - s) * along, D.along(m, d) * dt * scale * scale, 0, s};
}

// Move x along the normal m (any length, overwritten by the unit vector) onto the plane through p.
inline void onto_plane(double* x, const double* p, double* m, int d) {
  to_unit(m, d);
  double along = 0;
  for (int i = 0; i < d; ++i) along += m[i] * (x[i] - p[i]);
  for (int i = 0; i < d; ++i) x[i] -= along * m[i];
}

// Members of an Intersection (and so of a Union, through complements) whose planes at a step are parallel (nested
// or shared boundaries): the farther plane cannot be crossed before the nearer one, so only the nearest of such
// planes counts (merge_parallel_faces' rule within one region). Parallel is tested as there, by the step's
// displacement towards both planes in units of the noise across them (to 1e-9: planes at other angles agree that
// closely by chance only, and for opposite-facing planes only when the step does not move across them).
inline bool parallel_planes(const CrossingPlane& a, const CrossingPlane& b) {
  if (!(a.var > 0 && b.var > 0)) return false;
  const double na = std::sqrt(a.var), nb = std::sqrt(b.var);
  const double a0 = a.a0 / na, a1 = a.a1 / na, b0 = b.a0 / nb, b1 = b.a1 / nb;
  const double tol = 1e-9 * (std::abs(a0) + std::abs(a1) + std::abs(b0) + std::abs(b1));
  return std::abs((a0 - a1) - (b0 - b1)) <= tol;
}

// Whether two planes of a step are one: parallel in the noise's metric (parallel_planes) at the same distances.
inline bool same_plane(const CrossingPlane& a, const CrossingPlane& b) {
  if (!parallel_planes(a, b)) return false;
  const double na = std::sqrt(a.var), nb = std::sqrt(b.var);
  return std::abs(a.a0 / na - b.a0 / nb) <= 1e-9 * (std::abs(a.a0 / na) + std::abs(b.a0 / nb));
}

// A step tested against two boundaries at once (`stop` left from inside and `target` entered, or splitting's A and B
// both entered) is by default two independent crossings: exact where the planes meet at a right angle in the
// noise's metric. Where two of their faces have parallel planes facing the same way (one boundary given twice, as a
// box's face and a ball's complement, or nested ones), the bridge crosses the farther plane only through the nearer
// one, and counting both would stop paths too early (by O(sqrt(dt))). Then the farther face (t's where they
// coincide: a point on both sides is EXITED, or in A) is taken out of its own set's probability,
// p <- (p - p_f) / (1 - p_f), the set's other faces staying independent as before, so that a set with faces on both
// sides keeps the far side's. Parallel means the same displacement of the step towards both planes in units of the
// noise across them (to 1e-9 of the distances: two different planes agree that closely by chance only). s and t:
// the planes of every face each set's probability counts, measured from the path's side (stop's inside_planes, an
// entered set's outside_planes); ps and pt: those probabilities. s_out and t_out, when given, mark the faces of s
// and of t taken out (where a crossing drawn with the merged ps or pt may not be placed).
inline void merge_parallel_faces(const std::vector<CrossingPlane>& s, const std::vector<CrossingPlane>& t, double& ps,
                                 double& pt, std::vector<char>* s_out = nullptr, std::vector<char>* t_out = nullptr) {
  const auto take_out = [](double& p, const CrossingPlane& f) {
    const double pf = plane_probability(f);
    p = pf < 1.0 ? std::min(1.0, std::max(0.0, (p - pf) / (1.0 - pf))) : 0.0;
  };
  std::vector<char> own_s, own_t;
  std::vector<char>& out = s_out ? *s_out : own_s;  // s's faces taken out already (each once)
  std::vector<char>& t_taken = t_out ? *t_out : own_t;
  out.assign(s.size(), 0);
  t_taken.assign(t.size(), 0);
  for (std::size_t j = 0; j < t.size(); ++j) {
    const CrossingPlane& g = t[j];
    if (!(g.var > 0)) continue;
    const double t0 = g.a0 / std::sqrt(g.var), t1 = g.a1 / std::sqrt(g.var);
    // g is one boundary with the parallel face of s nearest to it: a face on the far side of s passes the test too
    // where the part barely moves towards either (a part of 2^-40 of a step, whose displacement is below 1e-9 of the
    // distances), and taking it would leave g's own partner unmerged
    std::size_t match = s.size();
    double gap = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (!parallel_planes(s[i], g)) continue;
      const double di = std::abs(s[i].a0 / std::sqrt(s[i].var) - t0);
      if (match == s.size() || di < gap) {
        match = i;
        gap = di;
      }
    }
    if (match == s.size()) continue;
    const CrossingPlane& f = s[match];
    const double s0 = f.a0 / std::sqrt(f.var), s1 = f.a1 / std::sqrt(f.var);
    const double tol = 1e-9 * (std::abs(s0) + std::abs(s1) + std::abs(t0) + std::abs(t1));
    if (t0 >= s0 - tol) {
      take_out(pt, g);
      t_taken[j] = 1;
    } else if (!out[match]) {
      take_out(ps, f);
      out[match] = 1;
    }
  }
  // A set with every face that could be crossed taken out cannot be crossed first: 0, where the formula leaves
  // what the set's joint law had beyond independence (a slab's two ends: stop and the target's complement sharing
  // both gave the target 0.85 for 0).
  const auto all_taken = [](const std::vector<CrossingPlane>& planes, const std::vector<char>& taken) {
    bool any = false;
    for (std::size_t i = 0; i < planes.size(); ++i) {
      if (!taken[i] && plane_probability(planes[i]) > 0) return false;
      any = any || taken[i];
    }
    return any;
  };
  if (all_taken(t, t_taken)) pt = 0.0;
  if (all_taken(s, out)) ps = 0.0;
}

// Whether member j's plane a is hidden behind another member's parallel plane: one nearer in noise units, or as
// near and of an earlier member (a shared plane counts once). planes[k]: member k's planes (Region::inside_planes).
inline bool dominated(const std::vector<std::vector<CrossingPlane>>& planes, std::size_t j, const CrossingPlane& a) {
  for (std::size_t k = 0; k < planes.size(); ++k) {
    if (k == j) continue;
    for (const CrossingPlane& b : planes[k]) {
      if (!parallel_planes(a, b)) continue;
      const double da = a.a0 / std::sqrt(a.var), db = b.a0 / std::sqrt(b.var);
      if (db < da || (db == da && k < j)) return true;
    }
  }
  return false;
}

// q[j], member j's crossing probability, without its hidden planes: each one's probability pf taken out once,
// (q - pf) / (1 - pf), the member's other faces staying independent as before. Called only when two members or
// more could be crossed, so that every other step keeps its bits.
inline void merge_nested_members(const std::vector<std::vector<CrossingPlane>>& planes, std::vector<double>& q) {
  for (std::size_t j = 0; j < planes.size(); ++j)
    for (const CrossingPlane& a : planes[j]) {
      if (!(q[j] > 0) || !dominated(planes, j, a)) continue;
      const double pf = plane_probability(a);
      q[j] = pf < 1.0 ? std::min(1.0, std::max(0.0, (q[j] - pf) / (1.0 - pf))) : 0.0;
    }
}

// Of k planes a step could have crossed (independent bridges given its ends, as the box's faces under a diagonal
// covariance), the one it crossed first: the set C of planes crossed has probability prod_{f in C} p_f
// prod_{f not in C} (1 - p_f), drawn by u given C nonempty, and of C the plane whose crossing time given the ends
// has the smallest mean (u = tau / (h - tau) has mean a0 / |a1|: the order in which the chord meets them) is taken.
// More than kMaxFirstCrossed candidates (planes with p > 0): chosen in proportion to p instead. `probability`, when
// given, holds each plane's p (a slab's exit probability for the end chosen in it) in place of its bridge's.
constexpr int kMaxFirstCrossed = 4;
inline CrossingPlane first_crossed(const std::vector<CrossingPlane>& planes, double u,
                                   const std::vector<double>* probability = nullptr) {
  const auto prob = [&](std::size_t f) { return probability ? (*probability)[f] : plane_probability(planes[f]); };
  CrossingPlane c[kMaxFirstCrossed];
  double p[kMaxFirstCrossed];
  int k = 0, last = -1;
  double total = 0.0;
  for (std::size_t f = 0; f < planes.size(); ++f) {
    const double pf = prob(f);
    if (!(pf > 0)) continue;
    total += pf;
    last = static_cast<int>(f);
    if (k < kMaxFirstCrossed) {
      c[k] = planes[f];
      p[k] = pf;
    }
    ++k;
  }
  if (last < 0) return planes.front();
  if (k > kMaxFirstCrossed) {  // in proportion to p
    const double target = u * total;
    double acc = 0.0;
    for (std::size_t f = 0; f < planes.size(); ++f) {
      const double pf = prob(f);
      if (!(pf > 0)) continue;
      acc += pf;
      if (target < acc) return planes[f];
    }
    return planes[static_cast<std::size_t>(last)];
  }
  double none = 1.0;
  for (int i = 0; i < k; ++i) none *= 1.0 - p[i];
  const double target = u * (1.0 - none);
  double acc = 0.0;
  int chosen = 0;
  for (unsigned set = 1; set < (1u << k); ++set) {  // the nonempty subsets, by inverse CDF
    double w = 1.0;
    for (int i = 0; i < k; ++i) w *= (set >> i) & 1u ? p[i] : 1.0 - p[i];
    acc += w;
    if (!(w > 0)) continue;
    int best = -1;
    double first = 0.0;
    for (int i = 0; i < k; ++i) {
      if (!((set >> i) & 1u)) continue;
      const double a1 = std::abs(c[i].a1), key = a1 > 0 ? c[i].a0 / a1 : std::numeric_limits<double>::infinity();
      if (best < 0 || key < first) {
        first = key;
        best = i;
      }
    }
    chosen = best;
    if (target < acc) break;
  }
  return c[chosen];
}

// A Brownian bridge between the two planes of a slab of width w (a box's two faces in one coordinate, the ends of a
// 1-D ball), from distance a0 to a1 from the low plane over a step whose noise variance across them is var: the
// probabilities that it leaves by the low plane first and by the high one first, by the method of images
// (alternating reflections in the two planes, Anderson 1960):
//   low = sum_{k>=0} e^(-2 (a0 + k w)(a1 + k w) / var) - sum_{k>=1} e^(-2 k w (k w + a1 - a0) / var),
// high the same for w - a0, w - a1. Exact for a drift frozen over the step, where the two planes taken as
// independent crossings are not once a step can reach both: from 0.05 in (-0.1, 0.1) at dt = 0.5 (T = 0.5), the
// high end's share was 0.873 for the exact 0.75. For a0 in [0, w] and any a1 (an end beyond a plane: the other's
// share from its series, this one's the rest). NaN where a series needs more than kMaxImages terms (a step's noise
// beyond about 200 widths).
struct SlabExits {
  double low, high;
};
constexpr int kMaxImages = 1000;
// The first of the two sums above less the second: the share of the low plane, for a1 > 0.
inline double low_first(double a0, double a1, double w, double var) {
  double sum = 0;
  for (int k = 0; k < kMaxImages; ++k) {
    const double kw = k * w;
    const double reflected = mathfn::exp(-2.0 * (a0 + kw) * (a1 + kw) / var);
    const double shifted = k > 0 ? mathfn::exp(-2.0 * kw * (kw + a1 - a0) / var) : 0.0;
    sum += reflected - shifted;
    if (k > 0 && reflected < 1e-18 && shifted < 1e-18) return std::min(1.0, std::max(0.0, sum));  // terms decrease
  }
  return std::numeric_limits<double>::quiet_NaN();
}
// slab_exits where both planes are within reach (their own bridges' probabilities lo, hi > 0); else NaN, and the
// planes' own bridges stand (with the bits they had).
inline SlabExits slab_exits(double a0, double a1, double w, double var);
inline SlabExits reachable_slab(double lo, double hi, double a0, double a1, double w, double var) {
  return lo > 0 && hi > 0 ? slab_exits(a0, a1, w, var) : SlabExits{std::numeric_limits<double>::quiet_NaN(), 0.0};
}
inline SlabExits slab_exits(double a0, double a1, double w, double var) {
  if (a1 >= w) {
    const double low = low_first(a0, a1, w, var);
    return {low, 1.0 - low};
  }
  if (a1 <= 0) {
    const double high = low_first(w - a0, w - a1, w, var);
    return {1.0 - high, high};
  }
  return {low_first(a0, a1, w, var), low_first(w - a0, w - a1, w, var)};
}

// crossing_time (below) where c (c + 2 |a1|) overflows (noise across the plane beyond 1e150 of its distance: dt
// near 1e160 gave every crossing at time 0): the same roots from the plane scaled by a power of two (the law
// depends on a0, a1 and sqrt(var) only through their ratios), the square root taken in two factors and the times
// as h (a0 / (a0 + P)).
inline double crossing_time_extreme(double a0, double a1, double var, double h, double z, double w) {
  const double k = std::ldexp(1.0, -std::ilogb(std::max({a0, a1, std::sqrt(var)})));
  a0 *= k;
  a1 *= k;
  var *= k * k;
  const double cc = z * z * var / (2.0 * a0);
  const double P = a1 + cc + std::sqrt(cc) * std::sqrt(cc + 2.0 * a1);
  return w * (P + a1) <= P ? h * (a0 / (a0 + P)) : h * (a0 / (a0 + a1 * (a1 / P)));
}

// The time in [0, h] at which a bridge over a step h first crossed the plane c, given that it crossed. With
// u = tau / (h - tau), the bridge's first-passage time has u ~ InverseGaussian(mean m = a0 / |a1|, shape
// lambda = a0^2 / var): the density of tau given the end point is proportional to
// tau^(-3/2) (h - tau)^(-1/2) exp(-a0^2 / (2 s^2 tau) - a1^2 / (2 s^2 (h - tau))), for either sign of a1.
// Sampled by Michael-Schucany-Haas from a standard normal z and a uniform w in (0, 1): the two roots of the
// method are u = m / q and u = m q with q = 1 + r + sqrt(r (r + 2)), r = m z^2 / (2 lambda), the first taken
// with probability q / (1 + q). Written with P = |a1| q = |a1| + c + sqrt(c (c + 2 |a1|)), c = z^2 var / (2 a0),
// the two times are h / (1 + P / a0) and h / (1 + a1^2 / (a0 P)): no overflow for a1 -> 0 (the Levy limit
// u = lambda / z^2) or var -> 0 (both roots give the linear interpolation tau = h a0 / (a0 + |a1|)). a0 = 0
// gives 0; the result is always in [0, h].
inline double crossing_time(const CrossingPlane& c, double h, double z, double w) {
  const double a0 = c.a0, a1 = std::abs(c.a1);
  if (!(a0 > 0)) return 0.0;
  const double var = c.var > 0 ? c.var : 0.0;
  const double cc = z * z * var / (2.0 * a0);
  const double root2 = cc * (cc + 2.0 * a1);
  const double P = a1 + cc + std::sqrt(root2);
  const double tau = !(root2 <= std::numeric_limits<double>::max()) && std::isfinite(a1) && std::isfinite(var)
                         ? crossing_time_extreme(a0, a1, var, h, z, w)
                     : w * (P + a1) <= P ? h / (1.0 + P / a0)
                                         : h / (1.0 + (a1 / a0) * (a1 / P));
  if (tau >= 0 && tau <= h) return tau;
  if (tau > h) return h;
  const double linear = h * (a0 / (a0 + a1));  // NaN from inf / inf: fall back on the interpolation, then h
  return linear >= 0 && linear <= h ? linear : h;
}

// The largest noise variance across any unit direction, bounded above (Gershgorin's row sums).
inline double largest_variance(const Diffusion& D) {
  if (D.isotropic) return D.scalar;
  double top = 0;
  for (long i = 0; i < D.Sigma.rows(); ++i) {
    double row = std::abs(D.Sigma(i, 0));
    for (long j = 1; j < D.Sigma.cols(); ++j) row += std::abs(D.Sigma(i, j));
    top = std::max(top, row);
  }
  return top;
}

class Ellipsoid;

// The bridge test near a curved boundary under anisotropic noise. The test is exact for a plane in any linear
// frame: the distance to it across the noise, a / sigma_n (sigma_n^2 = n^T Sigma n), does not change under a linear
// map of the state. At a curved boundary the tangent plane with exact Euclidean distances is accurate to O(dt)
// with a small constant when the noise is isotropic, but not otherwise: the length the bridge crosses is the
// distance in the noise's metric, the Euclidean distance where the noise is isotropic, y = L^-1 x with
// Sigma = L L^T. There a ball or an ellipsoid is an ellipsoid, and the crossing probability of a step is the
// tangent-plane one with the exact distances of both end points from it in y, the variance per unit time 1. With
// Euclidean distances in x instead, the mean exit time of Brownian motion leaving a disk seen through a shear was
// +2.2% at dt = 0.05 (docs/regions.md). The frame is computed once per noise covariance and kept (a region may be
// used with several dynamics, from several threads); a covariance that is not positive definite (noise in a
// subspace) keeps the tangent plane in x.
// Noise of variance 1 per unit time in every direction: the noise of a region's frame (below).
inline const Diffusion kUnitNoise{true, 1.0, Matrix()};

class NoiseFrame {
 public:
  struct Frame {
    Matrix sigma;                               // the covariance it was built for
    Matrix L_inv;                               // y = L_inv (x - center)
    std::shared_ptr<const Ellipsoid> region;    // the region in y (centred at 0); null: Sigma not positive definite
  };
  // The frame of D's covariance (D anisotropic), built by build(L) -> the region in y on first use.
  template <class Build>
  std::shared_ptr<const Frame> get(const Diffusion& D, Build build) const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!frame_ || frame_->sigma.rows() != D.Sigma.rows() || frame_->sigma != D.Sigma) {
      auto f = std::make_shared<Frame>();
      f->sigma = D.Sigma;
      // Plain fixed-order arithmetic (jacobi.hpp), the same bits at every instruction-set level.
      const int d = static_cast<int>(D.Sigma.rows());
      Matrix L(d, d);
      if (plain_cholesky(D.Sigma.data(), L.data(), d)) {
        Matrix L_inv(d, d);
        plain_lower_inverse(L.data(), L_inv.data(), d);
        if (L_inv.allFinite()) {
          try {
            f->region = build(L);
            f->L_inv = std::move(L_inv);
          } catch (const std::exception&) {  // an axis ratio beyond what the ellipsoid accepts: keep x's plane
            f->region = nullptr;
          }
        }
      }
      frame_ = std::move(f);
    }
    return frame_;
  }

 private:
  mutable std::mutex mutex_;
  mutable std::shared_ptr<const Frame> frame_;
};

// y = L_inv (x - c) in the frame (L_inv lower triangular), each sum in index order.
inline Vector frame_point(const NoiseFrame::Frame& frame, const double* x, const Vector& c) {
  const long d = c.size();
  Vector y(d);
  for (long i = 0; i < d; ++i) {
    double s = 0.0;
    for (long j = 0; j <= i; ++j) s += frame.L_inv(i, j) * (x[j] - c[j]);
    y[i] = s;
  }
  return y;
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
  // For one lane whose step crossed the boundary (from_inside: it left the region; else it entered), the plane of
  // the crossing; `u` in (0, 1) chooses among faces where several could have been crossed.
  virtual CrossingPlane crossing_plane(const double* x0, const double* x1, const Diffusion& D, double dt,
                                       bool from_inside, double u) const = 0;
  // The planes of every face a step from inside could have left by (crossing_plane's, one per face), appended to
  // out: one for a region with a single boundary.
  virtual void inside_planes(const double* x0, const double* x1, const Diffusion& D, double dt,
                             std::vector<CrossingPlane>& out) const {
    out.push_back(crossing_plane(x0, x1, D, dt, true, 0.5));
  }
  // The same for a step from outside: the planes of every face it could have entered by.
  virtual void outside_planes(const double* x0, const double* x1, const Diffusion& D, double dt,
                              std::vector<CrossingPlane>& out) const {
    out.push_back(crossing_plane(x0, x1, D, dt, false, 0.5));
  }
  // Whether the bridge of a step from outside could pass near an edge or corner of the region (two of its faces'
  // planes each within reach, above `likely`), where crossing_probability's one tangent plane stands for a wedge
  // and overstates the entry: simulate refines such a step (engine.hpp). No for regions with one smooth boundary.
  virtual bool edge_within_reach(const double*, const double*, const Diffusion&, double, double) const {
    return false;
  }
  // Whether edge_within_reach can be true anywhere (a box, or an intersection of half-spaces and boxes, of two
  // dimensions or more).
  virtual bool has_edges() const { return false; }
  // Whether the region's faces are all flat (a half-space, a box, an intersection of such): convex polyhedral.
  virtual bool polyhedral() const { return false; }
  // Move x (length dim) onto the boundary of `face` (the nearest point of that face): where a located exit is
  // placed.
  virtual void to_boundary(double* x, int face) const = 0;
  // The same for a crossing of the tangent plane at the boundary point p where a step's chord entered the region
  // (CrossingPlane::entry): x first moved along the plane's normal onto it, so that it lands on p's side of a
  // region thinner than the step (to_boundary alone takes a point past the middle to the far side). Regions whose
  // planes are their faces need nothing more.
  virtual void to_entered_boundary(double* x, int face, const double* /*p*/) const { to_boundary(x, face); }
  // For a crossing of a convex set's tangent plane at its nearest point (CrossingPlane::nearest), after
  // to_boundary: x, on the face's plane but perhaps beyond the set's edge, moved to the set's nearest point. Also
  // for a crossing placed on one member's face of an Intersection left (a Union entered, through its complement)
  // but beyond another member: moved onto the set's boundary through the members it lies beyond.
  virtual void to_set_boundary(double* /*x*/) const {}
  // x moved onto the boundary near it, from either side: onto the face it lies farthest beyond (from outside), or
  // the nearest face (from inside); a set of regions through its members (Intersection).
  virtual void onto_nearest_boundary(double* x) const { to_boundary(x, exit_face(x, x, contains(x))); }
  // The face such a crossing, placed at x, is recorded by: `face` (the plane's) where x lies on it, else that of the
  // member whose boundary x was moved onto.
  virtual int face_at(const double* /*x*/, int face) const { return face; }
  // A normal (any length, either sign) to `face` at its point x; false where the region cannot give one.
  virtual bool normal(const double* /*x*/, int /*face*/, double* /*n*/) const { return false; }
  // Whether x, a point near the face `face` (on its tangent plane), lies over the face itself: not beyond an edge
  // where another face (a box's, another member's) takes over. True for a region of one smooth face.
  virtual bool over_face(const double* /*x*/, int /*face*/) const { return true; }
  // The Euclidean distance from x to the boundary, positive inside and negative outside (splitting's default
  // score: minus the distance to the product set).
  virtual double signed_distance(const double* x) const = 0;
  // Faces: the pieces of the boundary a path can leave by, numbered 0 .. n_faces() - 1 (a Box has 2 d, a set of
  // regions the sum of its members'), as in CrossingPlane::face.
  virtual int n_faces() const { return 1; }
  // The face a step from x0 to x1 crossed when tested at its end points only (no bridge): from_inside, x1 left
  // the region, else it entered; the face whose plane the chord crosses first (when leaving) or last (when
  // entering). x0 == x1 (a start outside the region) gives the face the point lies beyond.
  virtual int exit_face(const double* /*x0*/, const double* /*x1*/, bool /*from_inside*/) const { return 0; }
  // The parts of the chord x0 + s (x1 - x0), s in [0, 1], that lie inside the region, as intervals of s in
  // increasing order, appended to out; false when the region cannot say (a set of regions then decides by the end
  // points alone). What a set of regions entered from outside needs when its members exclude the two end points
  // (a thin slab of two half-spaces, a union of two disjoint balls): a chord through it is a sure crossing.
  virtual bool chord_inside(const double* /*x0*/, const double* /*x1*/, std::vector<Interval>& /*out*/) const {
    return false;
  }
  // Reflecting faces: the region cannot be left through them. reflect() mirrors every point (d x width) that a
  // step took beyond a reflecting face back inside, in place (the symmetrized Euler scheme: weak order 1 at a
  // flat wall, exact in law for Brownian motion at a plane); such faces are never crossed in contains or the
  // bridge test.
  virtual bool reflects() const { return false; }
  virtual void reflect(double* /*x*/, int /*width*/) const {}
  // Whether the boundary is several faces, each with its own plane (a box, a set of regions): a step through the
  // region can cross a far face.
  virtual bool far_faces() const { return false; }
  // Whether, as a member of an Intersection, its faces can lead in from a step it contains: the complement of a
  // region with far_faces (the far face of a box narrower than the step).
  virtual bool open_beyond() const { return false; }
  // out[l] = signed_distance(column l) for `width` points stored dim x width.
  virtual void signed_distance(const double* x, int width, double* out) const {
    for (int l = 0; l < width; ++l) out[l] = signed_distance(x + static_cast<long>(l) * dim());
  }
  // The size of the numbers that place the region's boundary near x (its plane's distance from the origin, its
  // centre's largest coordinate plus its radius, its faces' largest finite coordinate; for a set of regions, those
  // of the member whose boundary is nearest x): with x's own largest coordinate, the unit of the rounding of
  // signed_distance and to_boundary there, so that a tolerance of 1e-9 times it means the same at every length
  // scale. 1 where the region cannot say.
  virtual double scale(const double* /*x*/) const { return 1.0; }
  // Whether the region is convex and can project(): a half-space, ball, ellipsoid or box without reflecting faces,
  // or an intersection of such.
  virtual bool convex() const { return false; }
  // For a convex region: move x (length dim) to the nearest point of the region's closure (x itself inside).
  virtual void project(double* /*x*/) const {}
  // For a half-space or a box without reflecting faces: its half-spaces {x : u . x < c}, u a unit vector, appended
  // to out; false for other regions (an Intersection opens its members itself: collect_leaves).
  virtual bool half_spaces(std::vector<std::pair<Vector, double>>& /*out*/) const { return false; }
};

// The largest |x_i| of a point (length d): with a region's scale(x), the unit of the rounding near x.
inline double largest_coordinate(const double* x, int d) {
  double m = 0;
  for (int i = 0; i < d; ++i) m = std::max(m, std::abs(x[i]));
  return m;
}

// The tolerance of a point x placed on region r's boundary: 1e-9 of the larger of `at` (a size of x, at least its
// largest coordinate) and the region's size there.
inline double placement_tolerance(const Region& r, const double* x, double at) {
  return 1e-9 * std::max(at, r.scale(x));
}

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
    // In index order, not Eigen's norm(), whose vectorized sum follows the instruction set.
    norm_ = std::sqrt(plain_squared_norm(n_.data(), static_cast<int>(n_.size())));
    unit_ = n_ / norm_;
  }
  // A reflecting wall: the path is mirrored back across the plane and never leaves.
  HalfSpace(Vector normal, double offset, bool reflecting) : HalfSpace(std::move(normal), offset) {
    reflecting_ = reflecting;
  }
  int dim() const override { return static_cast<int>(n_.size()); }
  std::string name() const override { return "HalfSpace"; }
  bool reflects() const override { return reflecting_; }
  // A reflecting wall is no face a step leaves by: no plane (a set holding it, as `(wall & Box) & ~Ball` nests it,
  // would otherwise take the wall's plane among its members' and place exits on the wall).
  void inside_planes(const double* x0, const double* x1, const Diffusion& D, double dt,
                     std::vector<CrossingPlane>& out) const override {
    if (!reflecting_) Region::inside_planes(x0, x1, D, dt, out);
  }
  // x -> x - 2 (normal . x - offset) normal / |normal|^2 where normal . x > offset; a point on the plane stays.
  void reflect(double* x, int width) const override {
    if (!reflecting_) return;
    const int d = dim();
    for (int l = 0; l < width; ++l) {
      double* xl = x + static_cast<long>(l) * d;
      const double excess = dot(xl) - b_;
      if (!(excess > 0)) continue;
      const double k = 2.0 * excess / (norm_ * norm_);
      for (int i = 0; i < d; ++i) xl[i] -= k * n_[i];
    }
  }
  bool contains(const double* x) const override { return reflecting_ || dot(x) < b_; }
  void contains(const double* x, int width, std::uint8_t* inside) const override {
    if (reflecting_) {
      for (int l = 0; l < width; ++l) inside[l] = 1;
      return;
    }
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
    if (reflecting_) {
      for (int l = 0; l < width; ++l) p[l] = 0.0;
      return;
    }
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
  // Distances in units of normal . x, as in crossing_probability.
  CrossingPlane crossing_plane(const double* x0, const double* x1, const Diffusion& D, double dt, bool from_inside,
                               double) const override {
    const double sign = from_inside ? 1.0 : -1.0;
    const double var = D.along(unit_.data(), dim()) * dt * norm_ * norm_;
    return {sign * (b_ - dot(x0)), sign * (b_ - dot(x1)), var, 0};
  }
  // Along the normal onto the plane normal . x = offset.
  void to_boundary(double* x, int) const override {
    if (dim() == 1) {
      x[0] = b_ / n_[0];
      return;
    }
    const double excess = (dot(x) - b_) / norm_;  // the signed distance from the plane
    for (int i = 0; i < dim(); ++i) x[i] -= excess * unit_[i];
  }
  bool normal(const double*, int, double* n) const override {
    std::copy(unit_.data(), unit_.data() + dim(), n);
    return true;
  }
  bool convex() const override { return !reflecting_; }
  bool polyhedral() const override { return !reflecting_; }
  void project(double* x) const override {
    if (!contains(x)) to_boundary(x, 0);
  }
  bool half_spaces(std::vector<std::pair<Vector, double>>& out) const override {
    if (reflecting_) return false;
    out.emplace_back(unit_, b_ / norm_);
    return true;
  }
  // offset / |normal| - unit normal . x: no division per point (splitting evaluates it at every step).
  double signed_distance(const double* x) const override {
    double s = b_ / norm_;
    for (int i = 0; i < dim(); ++i) s -= unit_[i] * x[i];
    return s;
  }
  void signed_distance(const double* x, int width, double* out) const override {
    const int d = dim();
    const double c = b_ / norm_;
    if (d == 1) {
      const double u0 = unit_[0];
      for (int l = 0; l < width; ++l) out[l] = c - u0 * x[l];
      return;
    }
    for (int l = 0; l < width; ++l) out[l] = signed_distance(x + static_cast<long>(l) * d);
  }

 private:
  double dot(const double* x) const {
    double s = 0;
    for (int i = 0; i < dim(); ++i) s += n_[i] * x[i];
    return s;
  }

 public:
  double scale(const double*) const override { return std::abs(b_) / norm_; }
  bool chord_inside(const double* x0, const double* x1, std::vector<Interval>& out) const override {
    const double f0 = dot(x0) - b_, f1 = dot(x1) - b_;  // inside where f0 + s (f1 - f0) < 0
    if (reflecting_ || (f0 < 0 && f1 < 0)) {
      out.emplace_back(0.0, 1.0);
    } else if (f0 < 0 || f1 < 0) {
      const double cut = f0 / (f0 - f1);
      out.emplace_back(f0 < 0 ? 0.0 : cut, f0 < 0 ? cut : 1.0);
    }
    return true;
  }

 private:
  Vector n_, unit_;
  double b_, norm_;
  bool reflecting_ = false;
};

// A Ball or an Ellipsoid in one dimension is the interval (c - h, c + h): two faces, its low end (face 0) and its
// high end (face 1), each a plane of its own as a 1-D Box's are. One tangent plane at the end point's side, with
// each point's distance from its own nearer end, missed the far end and measured a step across the centre from the
// wrong end: Brownian motion from 0.2 left (-1, 1) after 0.9005 +- 0.0012 on average at dt = 0.5 for the exact
// 0.96 (a Box: 0.9615 +- 0.0013). Lengths in units of 1/s (the region's power-of-two scaling): the end on both
// points' side gives the bits the radial distances gave.
class IntervalEnds {
 public:
  IntervalEnds() = default;
  IntervalEnds(double center, double half, double s) : c_(center), h_(half), s_(s) {}
  // Face f's plane for a step x0 -> x1 from inside (a0, a1 the distances inside) or from outside.
  CrossingPlane plane(double x0, double x1, const Diffusion& D, double dt, int f, bool from_inside) const {
    const double sign = from_inside ? 1.0 : -1.0;
    return {sign * inside(x0, f), sign * inside(x1, f), D.component(0) * dt * s_ * s_, f};
  }
  // From inside, leaving by either end, as a box's slab: the end's own bridge where the other is out of reach (its
  // probability 0), else the two together (slab_exits); from outside, a chord through the interval surely, else by
  // the end on the points' side.
  void crossing_probability(const double* x0, const double* x1, int width, const Diffusion& D, double dt,
                            bool from_inside, double* p) const {
    for (int l = 0; l < width; ++l) {
      if (!from_inside) {
        const int f = side(x0[l]);
        p[l] = f != side(x1[l]) ? 1.0 : plane_probability(plane(x0[l], x1[l], D, dt, f, false));
        continue;
      }
      const CrossingPlane low = plane(x0[l], x1[l], D, dt, 0, true), high = plane(x0[l], x1[l], D, dt, 1, true);
      const double lo = plane_probability(low), hi = plane_probability(high);
      if (lo == 0 || hi == 0) {
        p[l] = lo == 0 ? hi : lo;
        continue;
      }
      const SlabExits e = slab_exits(low.a0, low.a1, 2.0 * h_, low.var);
      p[l] = e.low + e.high > 0 ? std::min(1.0, e.low + e.high) : 1.0 - (1.0 - lo) * (1.0 - hi);
    }
  }
  // From inside, the end crossed (the nearer one where neither could be; of two, drawn with u by slab_exits); from
  // outside, the end on x0's side.
  CrossingPlane crossing_plane(double x0, double x1, const Diffusion& D, double dt, bool from_inside,
                               double u) const {
    if (!from_inside) return plane(x0, x1, D, dt, side(x0), false);
    std::vector<CrossingPlane> ends;
    inside_planes(x0, x1, D, dt, ends);
    const bool lo = plane_probability(ends[0]) > 0, hi = plane_probability(ends[1]) > 0;
    if (!(lo || hi)) return ends[ends[1].a1 < ends[0].a1];
    if (!(lo && hi)) return ends[hi];
    const SlabExits e = slab_exits(ends[0].a0, ends[0].a1, 2.0 * h_, ends[0].var);
    if (!(e.low + e.high > 0)) return first_crossed(ends, u);
    return ends[u * (e.low + e.high) >= e.low];
  }
  void inside_planes(double x0, double x1, const Diffusion& D, double dt, std::vector<CrossingPlane>& out) const {
    for (int f = 0; f < 2; ++f) out.push_back(plane(x0, x1, D, dt, f, true));
  }
  // Face f's end point.
  double end(int f) const { return c_ + (f == 1 ? h_ : -h_) / s_; }
  // The side of the centre x lies on (the centre itself: the low end, a box's nearest face there): for a point
  // outside, the end it lies beyond.
  int side(double x) const { return x <= c_ ? 0 : 1; }

 private:
  // x's distance from face f's end, positive inside (units of 1/s).
  double inside(double x, int f) const {
    const double u = (x - c_) * s_;
    return f == 1 ? h_ - u : h_ + u;
  }
  double c_ = 0, h_ = 1, s_ = 1;
};

// What a Ball and an Ellipsoid share: one face, and in one dimension, where each is an interval, two (its ends,
// IntervalEnds).
class RoundRegion : public Region {
 public:
  int n_faces() const override { return dim() == 1 ? 2 : 1; }
  bool far_faces() const override { return dim() == 1; }
  int exit_face(const double* x0, const double* x1, bool from_inside) const override {
    return dim() == 1 ? ends_.side(from_inside ? x1[0] : x0[0]) : 0;
  }
  void inside_planes(const double* x0, const double* x1, const Diffusion& D, double dt,
                     std::vector<CrossingPlane>& out) const override {
    if (dim() == 1) return ends_.inside_planes(x0[0], x1[0], D, dt, out);
    Region::inside_planes(x0, x1, D, dt, out);
  }
  bool convex() const override { return true; }
  // Move x to its nearest boundary point (the nearer end in one dimension).
  void nearest_point(double* x) const { to_boundary(x, dim() == 1 ? ends_.side(x[0]) : 0); }
  void project(double* x) const override {
    if (!contains(x)) nearest_point(x);
  }
  void to_entered_boundary(double* x, int face, const double* p) const override {
    Vector m(dim());
    if (normal(p, face, m.data())) onto_plane(x, p, m.data(), dim());
    to_boundary(x, face);
  }

 protected:
  IntervalEnds ends_;  // in one dimension, the two ends
};

// The open ball {x : |x - center| < radius}.
class Ball final : public RoundRegion {
 public:
  Ball(Vector center, double radius) : c_(std::move(center)), r_(radius) {
    require(c_.size() >= 1, "center", "an empty vector", "a non-empty vector");
    require(c_.allFinite(), "center", "a vector with NaN or inf", "finite");
    require(std::isfinite(radius) && radius > 0, "radius", radius, "a positive finite number");
    // Distances are measured in units of 1/s_, a power of two: s_ = 1 (no change to any bit) unless the radius
    // is so small or large (1e-170, 1e200) that its square would under- or overflow.
    s_ = extreme_scale(radius);
    r_ *= s_;
    ends_ = IntervalEnds(c_[0], r_, s_);
  }
  int dim() const override { return static_cast<int>(c_.size()); }
  std::string name() const override { return "Ball"; }
  bool contains(const double* x) const override { return dist2(x) < r_ * r_; }
  // Eight lanes at a time, each lane's squared distance summed over i in order as dist2 does (same bits): eight
  // independent sums where one lane's is a chain of dependent adds.
  void contains(const double* x, int width, std::uint8_t* inside) const override {
    const int d = dim();
    const double* c = c_.data();
    const double s = s_, r2 = r_ * r_;
    int l = 0;
    for (; l + 8 <= width; l += 8) {
      const double* xl = x + static_cast<long>(l) * d;
      double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int i = 0;
#if defined(__AVX512F__)
      // Eight coordinates of the eight lanes at a time, turned into vectors over the lanes in registers
      // (contiguous loads where the loop below gathers).
      detail::Vec8 sum = detail::Vec8{} * 0.0;
      for (; i + 8 <= d; i += 8) {
        detail::Vec8 col[8];
        detail::transpose8(xl + i, d, col);
        for (int j = 0; j < 8; ++j) {
          const detail::Vec8 e = (col[j] - c[i + j]) * s;
          sum = sum + e * e;
        }
      }
      std::memcpy(acc, &sum, sizeof acc);
#endif
      for (; i < d; ++i)
        for (int q = 0; q < 8; ++q) {
          const double e = (xl[static_cast<long>(q) * d + i] - c[i]) * s;
          acc[q] += e * e;
        }
      for (int q = 0; q < 8; ++q) inside[l + q] = acc[q] < r2;
    }
    for (; l < width; ++l) inside[l] = contains(x + static_cast<long>(l) * d);
  }
  void crossing_probability(const double* x0, const double* x1, int width, const Diffusion& D, double dt,
                            bool from_inside, double* p) const override {
    if (dim() == 1) return ends_.crossing_probability(x0, x1, width, D, dt, from_inside, p);
    const int d = dim();
    const double sign = from_inside ? 1.0 : -1.0;
    // Anisotropic noise: the distances in the noise's frame (NoiseFrame), for the lanes that an upper bound of the
    // exponent (radial distances, the largest variance) leaves open.
    const double top = largest_variance(D), c_bound = exponent_factor(top * dt * s_ * s_);
    std::shared_ptr<const NoiseFrame::Frame> frame;
    Vector n(d);
    for (int l = 0; l < width; ++l) {
      const long o = static_cast<long>(l) * d;
      if (!from_inside && segment_meets(x0 + o, x1 + o)) {  // the step's chord passes through: a sure crossing
        p[l] = 0.0;
        continue;
      }
      const double r0 = std::sqrt(dist2(x0 + o)), r1 = std::sqrt(dist2(x1 + o));
      double var = D.scalar * dt;
      if (!D.isotropic) {
        const double bound = bridge_exponent(sign * (r_ - r0), sign * (r_ - r1), c_bound);
        if (bound < kNegligibleExponent) {
          p[l] = bound;
          continue;
        }
        if (!frame) frame = noise_frame(D);
        if (frame->region) {
          p[l] = bridge_exponent(sign * in_frame(*frame, x0 + o), sign * in_frame(*frame, x1 + o),
                                 exponent_factor(dt * s_ * s_));
          continue;
        }
        // the tangent plane at the end point's radial direction
        for (int i = 0; i < d; ++i) n[i] = r1 > 0 ? (x1[o + i] - c_[i]) * s_ / r1 : (i == 0);
        var = D.along(n.data(), d) * dt;
      }
      p[l] = bridge_exponent(sign * (r_ - r0), sign * (r_ - r1), exponent_factor(var * s_ * s_));
    }
    exponents_to_probabilities(p, width);
  }
  // The tangent plane at the end point's radial direction, as crossing_probability: radial distances from the
  // sphere (in units of 1/s_), the variance across that plane; under anisotropic noise the same in the noise's
  // frame (the variance per unit time 1). For a chord through the ball from outside to outside, the tangent plane
  // where the chord enters (entry_plane). In one dimension, an end's (IntervalEnds).
  CrossingPlane crossing_plane(const double* x0, const double* x1, const Diffusion& D, double dt, bool from_inside,
                               double u) const override {
    if (dim() == 1) return ends_.crossing_plane(x0[0], x1[0], D, dt, from_inside, u);
    const int d = dim();
    if (!from_inside) {
      // A chord through the ball from outside to outside, or one into it whose end lies nearer the far side (a
      // ball thinner than the step: the radial plane there has both ends on one side, and timed and placed the
      // hit across the ball): the tangent plane where the chord enters. Under anisotropic noise the same is
      // decided where the noise is isotropic (entering_in_frame).
      std::vector<Interval> in;
      chord_inside(x0, x1, in);
      if (!in.empty()) {
        Vector m(d);
        const double s = in.front().first;
        double facing = 0;  // the entry point's radius . the end point's
        for (int i = 0; i < d; ++i) {
          m[i] = (x0[i] + s * (x1[i] - x0[i]) - c_[i]) * s_;
          facing += m[i] * (x1[i] - c_[i]);
        }
        if (!contains(x1) || (facing < 0 && D.isotropic)) return entry_plane(x0, x1, s, m.data(), d, D, dt, s_);
      }
    }
    const double sign = from_inside ? 1.0 : -1.0;
    const double r0 = std::sqrt(dist2(x0)), r1 = std::sqrt(dist2(x1));
    double var = D.scalar * dt;
    if (!D.isotropic) {
      const std::shared_ptr<const NoiseFrame::Frame> frame = noise_frame(D);
      if (frame->region && !from_inside) return entering_in_frame(*frame, x0, x1, dt);
      if (frame->region) return {sign * in_frame(*frame, x0), sign * in_frame(*frame, x1), dt * s_ * s_, 0};
      Vector n(d);
      for (int i = 0; i < d; ++i) n[i] = r1 > 0 ? (x1[i] - c_[i]) * s_ / r1 : (i == 0);
      var = D.along(n.data(), d) * dt;
    }
    return {sign * (r_ - r0), sign * (r_ - r1), var * s_ * s_, 0};
  }
  // Radially onto the sphere (the center itself goes to the sphere's point along the first axis); in one
  // dimension onto the face's end.
  void to_boundary(double* x, int face) const override {
    if (dim() == 1) {
      x[0] = ends_.end(face);
      return;
    }
    const double r = std::sqrt(dist2(x));  // in units of 1/s_
    if (r > 0 && std::isfinite(r)) {
      const double k = r_ / r;
      for (int i = 0; i < dim(); ++i) x[i] = c_[i] + (x[i] - c_[i]) * k;
    } else {
      for (int i = 0; i < dim(); ++i) x[i] = c_[i] + (i == 0 ? r_ / s_ : 0.0);
    }
  }
  bool normal(const double* x, int face, double* n) const override {
    if (dim() == 1) {
      n[0] = face == 1 ? 1.0 : -1.0;
      return true;
    }
    bool any = false;
    for (int i = 0; i < dim(); ++i) {
      n[i] = (x[i] - c_[i]) * s_;
      any = any || n[i] != 0;
    }
    return any;
  }
  using Region::signed_distance;
  double signed_distance(const double* x) const override { return (r_ - std::sqrt(dist2(x))) / s_; }
  double scale(const double*) const override { return c_.cwiseAbs().maxCoeff() + r_ / s_; }

 private:
  // The frame where D's noise is isotropic, and in it the signed distance (positive inside, units of 1/s_) of x
  // from the ball's image, an ellipsoid (defined after Ellipsoid).
  std::shared_ptr<const NoiseFrame::Frame> noise_frame(const Diffusion& D) const;
  // The plane of a step entering the ball, from the ellipsoid it is in the frame (by its own rule there).
  CrossingPlane entering_in_frame(const NoiseFrame::Frame& frame, const double* x0, const double* x1,
                                  double dt) const;
  double in_frame(const NoiseFrame::Frame& frame, const double* x) const;
  // Whether the segment x0 -> x1 passes through the ball: its point closest to the center lies inside.
  bool segment_meets(const double* x0, const double* x1) const {
    const auto [ee, eq] = chord_sums(x0, x1);
    const double t = ee > 0 ? std::min(1.0, std::max(0.0, -eq / ee)) : 0.0;  // -eq = e . (c - x0): negation is exact
    double q2 = 0;
    for (int i = 0; i < dim(); ++i) {
      const double q = (x0[i] + t * (x1[i] - x0[i]) - c_[i]) * s_;
      q2 += q * q;
    }
    return q2 < r_ * r_;
  }

 public:
  bool chord_inside(const double* x0, const double* x1, std::vector<Interval>& out) const override {
    const auto [ee, eq] = chord_sums(x0, x1);
    quadratic_chord(ee, eq, dist2(x0) - r_ * r_, out);
    return true;
  }

 private:
  // |e|^2 and e . (x0 - c) for the step e = x1 - x0, in units of 1/s_: the chord's quadratic.
  std::pair<double, double> chord_sums(const double* x0, const double* x1) const {
    double ee = 0, eq = 0;
    for (int i = 0; i < dim(); ++i) {
      const double e = (x1[i] - x0[i]) * s_;
      ee += e * e;
      eq += e * ((x0[i] - c_[i]) * s_);
    }
    return {ee, eq};
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
  NoiseFrame frame_;
};

// The open ellipsoid {x : (x - center)^T A (x - center) < 1}, A symmetric positive definite (d x d): in the
// principal frame of A (A = Q diag(lambda) Q^T, done once here) its semi-axes are e_i = 1 / sqrt(lambda_i).
// The bridge test measures a step against the tangent plane at the boundary point nearest to the step's end
// point, with the exact Euclidean distances of both end points (Eberly, "Distance from a point to an ellipse, an
// ellipsoid, or a hyperellipsoid"); a lane far from the boundary is settled by a cheap lower bound of those
// distances and never solves for them.
class Ellipsoid final : public RoundRegion {
 public:
  Ellipsoid(Vector center, const Matrix& matrix) : c_(std::move(center)) {
    require(c_.size() >= 1, "center", "an empty vector", "a non-empty vector");
    require(c_.allFinite(), "center", "a vector with NaN or inf", "finite");
    const long d = c_.size();
    require(matrix.rows() == d && matrix.cols() == d, "matrix",
            std::to_string(matrix.rows()) + "x" + std::to_string(matrix.cols()),
            "a square matrix matching center (" + std::to_string(d) + "x" + std::to_string(d) + ")");
    require(matrix.allFinite(), "matrix", "a matrix with NaN or inf", "finite");
    const double largest = matrix.cwiseAbs().maxCoeff();
    require((matrix - matrix.transpose()).cwiseAbs().maxCoeff() <= 1e-12 * largest, "matrix",
            "a non-symmetric matrix", "symmetric");
    const Matrix A = 0.5 * matrix + 0.5 * matrix.transpose();  // halves first: no overflow near the largest double
    // A = Q diag(lambda) Q^T by Jacobi rotations in plain arithmetic (the same bits at every instruction-set
    // level), on A scaled by its largest entry as Eigen's solver does: a diagonal A keeps the bits it had.
    double scale = A.cwiseAbs().maxCoeff();
    if (scale == 0.0) scale = 1.0;
    Matrix a = A / scale;
    Q_.resize(d, d);
    Vector lambda(d);  // ascending: the semi-axes come out descending
    jacobi_eigen_ascending(a.data(), Q_.data(), lambda.data(), static_cast<int>(d));
    lambda *= scale;
    require(lambda[0] > 0, "matrix", "a matrix with smallest eigenvalue " + number(lambda[0]), "positive definite");
    // Semi-axes whose ratio exceeds 2^128 (about 3e38) would square beyond what the solver keeps exact.
    require(std::ilogb(lambda[d - 1]) - std::ilogb(lambda[0]) <= 2 * kMaxAxisRatioExponent, "matrix",
            "a matrix with eigenvalues " + number(lambda[0]) + " to " + number(lambda[d - 1]),
            "positive definite with a ratio of largest to smallest eigenvalue below 2^256 (about 1e77)");
    // Lengths are measured in units of 1/s_, a power of two: 1 unless the largest semi-axis is so small or large
    // (beyond about 1e+-77) that its square would under- or overflow, as for the Ball.
    s_ = extreme_scale(1.0 / std::sqrt(lambda[0]));
    e_.resize(d);
    b_.resize(d);
    W_.resize(d, d);
    for (long i = 0; i < d; ++i) {
      const double root = std::sqrt(lambda[i]);
      e_[i] = s_ / root;
      b_[i] = e_[i] * e_[i];
      W_.row(i) = root * Q_.col(i).transpose();  // z = W (x - c): the point in units of the semi-axes
    }
    e_min_ = e_[d - 1];
    b_min_ = b_[d - 1];
    inv_b_ = b_.cwiseInverse();
    inv_b_min_ = inv_b_[d - 1];
    sphere_ = b_[0] == b_min_;
    ends_ = IntervalEnds(c_[0], e_[0], s_);
  }
  int dim() const override { return static_cast<int>(c_.size()); }
  std::string name() const override { return "Ellipsoid"; }
  bool contains(const double* x) const override {
    Vector z(dim());
    return to_units(x, z.data()) < 1.0;
  }
  void contains(const double* x, int width, std::uint8_t* inside) const override {
    const int d = dim();
    Vector z(d);
    for (int l = 0; l < width; ++l) inside[l] = to_units(x + static_cast<long>(l) * d, z.data()) < 1.0;
  }
  void crossing_probability(const double* x0, const double* x1, int width, const Diffusion& D, double dt,
                            bool from_inside, double* p) const override {
    if (dim() == 1) return ends_.crossing_probability(x0, x1, width, D, dt, from_inside, p);
    const int d = dim();
    const double sign = from_inside ? 1.0 : -1.0;
    // The exponent with the end points' lower bounds and the largest noise variance across any plane is an
    // upper bound of the exponent; below kNegligibleExponent it settles the lane (p = 0 either way).
    const double top = largest_variance(D), c_bound = exponent_factor(top * dt * s_ * s_);
    Vector z0(d), z1(d), n(d), m(d);
    std::shared_ptr<const NoiseFrame::Frame> frame;
    for (int l = 0; l < width; ++l) {
      const long o = static_cast<long>(l) * d;
      const double q0 = to_units(x0 + o, z0.data()), q1 = to_units(x1 + o, z1.data());
      if (!from_inside && segment_meets(z0.data(), z1.data())) {  // the step's chord passes through: a sure crossing
        p[l] = 0.0;
        continue;
      }
      // Lower bounds of the distances, the cheap one first (x + (1 - sqrt(q)) E lies in E; E + delta B in
      // (1 + delta / e_min) E), then, for a lane it leaves open, one that is tight near any part of the boundary.
      double lb0 = sign * (1.0 - std::sqrt(q0)) * e_min_, lb1 = sign * (1.0 - std::sqrt(q1)) * e_min_;
      if (!(lb0 > 0 && lb1 > 0)) {  // an end point on the boundary or beyond it (or NaN): as a crossing
        p[l] = 0.0;
        continue;
      }
      double bound = bridge_exponent(lb0, lb1, c_bound);
      if (!(bound < kNegligibleExponent) && !sphere_) {
        lb0 = std::max(lb0, sign * gradient_bound(z0.data(), q0));
        lb1 = std::max(lb1, sign * gradient_bound(z1.data(), q1));
        bound = bridge_exponent(lb0, lb1, c_bound);
      }
      if (bound < kNegligibleExponent) {
        p[l] = bound;
        continue;
      }
      if (!D.isotropic) {  // distances in the noise's frame (NoiseFrame), the variance per unit time 1
        if (!frame) frame = noise_frame(D);
        if (frame->region) {
          const double m1 = sign * in_frame(*frame, x1 + o);
          const double c = exponent_factor(dt * s_ * s_);
          const double partial = bridge_exponent(lb0 / std::sqrt(top), m1, c);  // an upper bound, as below
          p[l] = partial < kNegligibleExponent ? partial : bridge_exponent(sign * in_frame(*frame, x0 + o), m1, c);
          continue;
        }
      }
      const double a1 = nearest(z1.data(), q1, nullptr, D.isotropic ? nullptr : n.data());
      double var = D.scalar * dt;
      if (!D.isotropic) {
        rotate_back(n.data(), m.data());
        var = D.along(m.data(), d) * dt;
      }
      const double c = exponent_factor(var * s_ * s_);
      const double partial = bridge_exponent(lb0, a1, c);  // again an upper bound: x0's solve may be spared too
      p[l] = partial < kNegligibleExponent ? partial : bridge_exponent(nearest(z0.data(), q0, nullptr, nullptr), a1, c);
    }
    exponents_to_probabilities(p, width);
  }
  // The tangent plane at the boundary point nearest to x1, with the exact distances of x0 and x1 from the
  // ellipsoid (a1 <= 0 when x1 lies on the other side from the one the step starts on); for a chord through it
  // from outside to outside, the tangent plane where the chord enters (entry_plane). In one dimension, an end's
  // (IntervalEnds).
  CrossingPlane crossing_plane(const double* x0, const double* x1, const Diffusion& D, double dt, bool from_inside,
                               double u) const override {
    if (dim() == 1) return ends_.crossing_plane(x0[0], x1[0], D, dt, from_inside, u);
    const int d = dim();
    Vector z0(d), z1(d), n(d), m(d);
    const double q0 = to_units(x0, z0.data()), q1 = to_units(x1, z1.data());
    if (!from_inside) {  // through it, or into it with the end nearer the far side: where it enters, as for Ball
      std::vector<Interval> in;
      chord_inside(x0, x1, in);
      if (!in.empty()) {
        const double s = in.front().first;
        for (int i = 0; i < d; ++i) n[i] = (z0[i] + s * (z1[i] - z0[i])) * std::sqrt(inv_b_[i]);  // grad |z|^2
        double facing = 0;  // the entry's normal . the normal at the end point's nearest boundary point
        if (q1 < 1.0 && D.isotropic) {
          nearest(z1.data(), q1, nullptr, m.data());
          for (int i = 0; i < d; ++i) facing += n[i] * m[i];
        }
        if (!(q1 < 1.0) || facing < 0) {
          rotate_back(n.data(), m.data());
          return entry_plane(x0, x1, s, m.data(), d, D, dt, s_);
        }
      }
    }
    const double sign = from_inside ? 1.0 : -1.0;
    if (!D.isotropic) {  // distances in the noise's frame, as crossing_probability: the variance per unit time 1
      const std::shared_ptr<const NoiseFrame::Frame> frame = noise_frame(D);
      if (frame->region && !from_inside) {  // entering: the frame's ellipsoid decides, by its own rule
        const Vector y0 = frame_point(*frame, x0, c_), y1 = frame_point(*frame, x1, c_);
        return frame->region->crossing_plane(y0.data(), y1.data(), kUnitNoise, dt, false, 0.5);
      }
      if (frame->region) return CrossingPlane{sign * in_frame(*frame, x0) / s_, sign * in_frame(*frame, x1) / s_, dt, 0};
    }
    const double a0 = nearest(z0.data(), q0, nullptr, nullptr) * (q0 < 1.0 ? 1.0 : -1.0) * sign;
    const double a1 = nearest(z1.data(), q1, nullptr, n.data()) * (q1 < 1.0 ? 1.0 : -1.0) * sign;
    rotate_back(n.data(), m.data());
    return CrossingPlane{a0 / s_, a1 / s_, D.along(m.data(), d) * dt, 0};
  }
  // Move x onto the boundary: its nearest boundary point (in one dimension, the face's end).
  void to_boundary(double* x, int face) const override {
    if (dim() == 1) {
      x[0] = ends_.end(face);
      return;
    }
    const int d = dim();
    Vector z(d), y(d), v(d);
    const double q = to_units(x, z.data());
    nearest(z.data(), q, y.data(), nullptr);
    rotate_back(y.data(), v.data());
    for (int i = 0; i < d; ++i) x[i] = c_[i] + v[i] / s_;
  }
  // grad |z|^2 in the principal frame, rotated back (crossing_plane's normal); in one dimension the face's.
  bool normal(const double* x, int face, double* n) const override {
    if (dim() == 1) {
      n[0] = face == 1 ? 1.0 : -1.0;
      return true;
    }
    const int d = dim();
    Vector z(d), g(d);
    to_units(x, z.data());
    bool any = false;
    for (int i = 0; i < d; ++i) {
      g[i] = z[i] * std::sqrt(inv_b_[i]);
      any = any || g[i] != 0;
    }
    rotate_back(g.data(), n);
    return any;
  }
  // The distance from x to the boundary, positive inside and negative outside.
  using Region::signed_distance;
  double signed_distance(const double* x) const override {
    Vector z(dim());
    const double q = to_units(x, z.data());
    return nearest(z.data(), q, nullptr, nullptr) / s_ * (q < 1.0 ? 1.0 : -1.0);
  }
  double scale(const double*) const override {
    return c_.cwiseAbs().maxCoeff() + e_[0] / s_;  // e_[0]: the largest semi-axis
  }
  // The distance from x to the boundary (for tests; the same routine as the bridge test).
  double distance(const double* x) const {
    Vector z(dim());
    const double q = to_units(x, z.data());
    return nearest(z.data(), q, nullptr, nullptr) / s_;
  }

 private:
  static constexpr int kMaxAxisRatioExponent = 128;

  static std::string number(double v) {
    std::ostringstream out;
    out.precision(17);
    out << v;
    return out.str();
  }

  // The frame where D's noise is isotropic (NoiseFrame): there the ellipsoid is (W L)^T (W L), centred at 0.
  std::shared_ptr<const NoiseFrame::Frame> noise_frame(const Diffusion& D) const {
    return frame_.get(D, [this](const Matrix& L) {
      const int d = dim();
      Matrix WL(d, d), A(d, d);
      plain_a_b(W_.data(), L.data(), WL.data(), d, d, d);
      plain_at_b(WL.data(), WL.data(), A.data(), d, d, d);
      return std::make_shared<const Ellipsoid>(Vector::Zero(dim()), Matrix(0.5 * A + 0.5 * A.transpose()));
    });
  }
  // The signed distance (positive inside, units of 1/s_) of x from the ellipsoid's image in the noise's frame.
  double in_frame(const NoiseFrame::Frame& frame, const double* x) const {
    const Vector y = frame_point(frame, x, c_);
    return frame.region->signed_distance(y.data()) * s_;
  }
  // z = W (x - c) (the point in the principal frame, in units of the semi-axes); returns q = |z|^2.
  double to_units(const double* x, double* z) const {
    const int d = dim();
    double q = 0;
    for (int i = 0; i < d; ++i) {
      double s = 0;
      for (int j = 0; j < d; ++j) s += W_(i, j) * (x[j] - c_[j]);
      z[i] = s;
      q += s * s;
    }
    return q;
  }
  // v = Q w: a vector of the principal frame in the original coordinates.
  void rotate_back(const double* w, double* v) const {
    const int d = dim();
    for (int i = 0; i < d; ++i) {
      double s = 0;
      for (int j = 0; j < d; ++j) s += Q_(i, j) * w[j];
      v[i] = s;
    }
  }
  // A lower bound of the distance from z (q = |z|^2) to the boundary, negative outside (units of 1/s_): along a
  // segment of length delta from x to the boundary q changes by at most |grad q| delta + lambda_max delta^2
  // (inside; outside |grad q| delta), with |grad q|^2 = 4 sum z_i^2 / b_i and lambda_max = 1 / b_min.
  double gradient_bound(const double* z, double q) const {
    double g2 = 0;
    for (int i = 0; i < dim(); ++i) g2 += z[i] * z[i] * inv_b_[i];
    if (q < 1.0) return (1.0 - q) / (std::sqrt(g2) + std::sqrt(g2 + (1.0 - q) * inv_b_min_));
    return (1.0 - q) / (2.0 * std::sqrt(g2));
  }
  // Whether the segment z0 -> z1 (units of the semi-axes) passes through the unit ball: the ellipsoid's chord.
  bool segment_meets(const double* z0, const double* z1) const {
    const auto [ee, ez] = chord_sums(z0, z1);
    const double t = ee > 0 ? std::min(1.0, std::max(0.0, -ez / ee)) : 0.0;  // -ez = -e . z0: negation is exact
    double q2 = 0;
    for (int i = 0; i < dim(); ++i) {
      const double q = z0[i] + t * (z1[i] - z0[i]);
      q2 += q * q;
    }
    return q2 < 1.0;
  }

 public:
  bool chord_inside(const double* x0, const double* x1, std::vector<Interval>& out) const override {
    const int d = dim();
    Vector z0(d), z1(d);
    const double q0 = to_units(x0, z0.data());
    to_units(x1, z1.data());
    const auto [ee, ez] = chord_sums(z0.data(), z1.data());
    quadratic_chord(ee, ez, q0 - 1.0, out);
    return true;
  }

 private:
  // |e|^2 and e . z0 for the step e = z1 - z0 (units of the semi-axes): the chord's quadratic.
  std::pair<double, double> chord_sums(const double* z0, const double* z1) const {
    double ee = 0, ez = 0;
    for (int i = 0; i < dim(); ++i) {
      const double e = z1[i] - z0[i];
      ee += e * e;
      ez += e * z0[i];
    }
    return {ee, ez};
  }
  // The Euclidean distance (units of 1/s_) from the point z (units of the semi-axes, q = |z|^2) to the boundary;
  // optionally the nearest boundary point y (principal frame, units of 1/s_) and the unit outward normal there
  // (principal frame). In the principal frame, with y_i = e_i z_i, the nearest point is x_i = b_i y_i / (t + b_i)
  // (b_i = e_i^2) for the root t > -b_min of sum (e_i y_i / (t + b_i))^2 = 1; with u = t + b_min and
  // beta_i = b_i - b_min, that is |p(u)| = 1 for p_i = c_i / (u + beta_i), c_i = b_i z_i, |p| decreasing in u.
  // Newton's method on h(u) = 1 / |p(u)| (almost linear, concave: it climbs to the root from the left without
  // overshooting) inside a bisection bracket. A point whose components along the shortest axes are 0 may lie on
  // the medial set (inside), where the nearest points leave that plane: handled in closed form at u = 0.
  double nearest(const double* z, double q, double* closest, double* normal) const {
    const int d = dim();
    if (!std::isfinite(q)) {
      if (closest)
        for (int i = 0; i < d; ++i) closest[i] = std::numeric_limits<double>::quiet_NaN();
      if (normal)
        for (int i = 0; i < d; ++i) normal[i] = std::numeric_limits<double>::quiet_NaN();
      return std::isnan(q) ? q : std::numeric_limits<double>::infinity();
    }
    // Bounds of the root: every |c_i| / (u + beta_i) <= 1 there, and |p(u)| <= |c| / u.
    double lo = 0, cc = 0;
    bool free_axes = true;  // every component along a shortest axis is 0
    for (int i = 0; i < d; ++i) {
      const double ci = b_[i] * z[i], beta = b_[i] - b_min_;
      cc += ci * ci;
      lo = std::max(lo, std::abs(ci) - beta);
      if (beta == 0 && ci != 0) free_axes = false;
    }
    double hi = std::sqrt(cc);
    if (q < 1.0) {
      hi = std::min(hi, b_min_);
    } else {
      lo = std::max(lo, b_min_);
      hi = std::max(hi, lo);
    }
    double u;
    if (q < 1.0 && free_axes && norm2_p(z, 0.0) <= 1.0) {
      u = 0.0;  // the medial set: the nearest points leave the plane of the shortest axes
    } else {
      // Start with Newton's step from t = 0 (u = b_min, where |p|^2 = q): left of the root, as every Newton
      // step on the concave h, and close to it for a point near the boundary, the case that matters.
      double z2b = 0;
      for (int i = 0; i < d; ++i) z2b += z[i] * z[i] * inv_b_[i];
      const double start = b_min_ + q * (std::sqrt(q) - 1.0) / z2b;
      u = start >= lo ? std::min(start, hi) : lo;  // NaN (z = 0) starts at lo
      for (int it = 0; it < 100 && lo < hi; ++it) {
        double s3 = 0;
        const double s2 = norm2_p(z, u, &s3);
        if (s2 == 1.0) break;
        if (s2 > 1.0) lo = u; else hi = u;
        const double newton = u + (std::sqrt(s2) - 1.0) * s2 / s3;  // h = 1/r, h' = s3 / r^3 (r = |p| = sqrt(s2))
        const double next = newton >= lo && newton <= hi ? newton : 0.5 * (lo + hi);
        // Done when the step is rounding noise or returns to an end of the bracket (as close as rounding allows).
        const bool done = std::abs(next - u) <= 16 * std::numeric_limits<double>::epsilon() * u || next == lo ||
                          next == hi;
        u = next;
        if (done) break;
      }
    }
    const double t = u - b_min_;
    // x_i - y_i = -t y_i / (u + beta_i); the normal is along y_i / (u + beta_i).
    double g2 = 0;
    for (int i = 0; i < d; ++i) {
      const double yi = e_[i] * z[i], si = u + (b_[i] - b_min_);
      const double gi = yi != 0 ? yi / si : 0.0;
      g2 += gi * gi;
      if (normal) normal[i] = gi;
      if (closest) closest[i] = yi - t * gi;
    }
    double dist2 = t * t * g2;
    if (u == 0.0 && q < 1.0) {  // the medial set: the free components carry what the constraint leaves
      const double rest = std::max(0.0, 1.0 - norm2_p(z, 0.0));
      const double x_free = e_min_ * std::sqrt(rest);
      dist2 += x_free * x_free;
      int k = d - 1;  // the shortest axis (one of them)
      if (closest) closest[k] = x_free;
      if (normal) {
        normal[k] = x_free / b_min_;
        g2 += normal[k] * normal[k];
      }
    }
    if (normal) {
      const double g = std::sqrt(g2);
      for (int i = 0; i < d; ++i) normal[i] = g > 0 ? normal[i] / g : (i == d - 1);
    }
    return std::sqrt(dist2);
  }
  // |p(u)|^2 = sum c_i^2 / (u + beta_i)^2 over the components with c_i != 0; *s3 = sum c_i^2 / (u + beta_i)^3.
  double norm2_p(const double* z, double u, double* s3 = nullptr) const {
    double s2 = 0, t3 = 0;
    for (int i = 0; i < dim(); ++i) {
      const double ci = b_[i] * z[i];
      if (ci == 0) continue;
      const double inv = 1.0 / (u + (b_[i] - b_min_));
      const double r2 = ci * ci * inv * inv;
      s2 += r2;
      t3 += r2 * inv;
    }
    if (s3) *s3 = t3;
    return s2;
  }

  Vector c_;
  Matrix Q_, W_;        // eigenvectors of A (columns); W = diag(sqrt(lambda)) Q^T
  Vector e_, b_, inv_b_;  // semi-axes (descending), their squares and inverse squares, in units of 1/s_
  double e_min_ = 0, b_min_ = 0, inv_b_min_ = 0;
  double s_ = 1;        // a power of two, 1 for any ordinary ellipsoid
  bool sphere_ = false;  // all semi-axes equal: the cheap bound is already exact
  NoiseFrame frame_;
};

// The ball in the noise's frame, y = L^-1 (x - center): {y : |L y| < radius}, the ellipsoid with matrix
// L^T L / radius^2.
inline std::shared_ptr<const NoiseFrame::Frame> Ball::noise_frame(const Diffusion& D) const {
  return frame_.get(D, [this](const Matrix& L) {
    const int d = dim();
    const Matrix M = L / (r_ / s_);
    Matrix A(d, d);
    plain_at_b(M.data(), M.data(), A.data(), d, d, d);
    return std::make_shared<const Ellipsoid>(Vector::Zero(dim()), Matrix(0.5 * A + 0.5 * A.transpose()));
  });
}

inline double Ball::in_frame(const NoiseFrame::Frame& frame, const double* x) const {
  const Vector y = frame_point(frame, x, c_);
  return frame.region->signed_distance(y.data()) * s_;
}

inline CrossingPlane Ball::entering_in_frame(const NoiseFrame::Frame& frame, const double* x0, const double* x1,
                                             double dt) const {
  const Vector y0 = frame_point(frame, x0, c_), y1 = frame_point(frame, x1, c_);
  const CrossingPlane c = frame.region->crossing_plane(y0.data(), y1.data(), kUnitNoise, dt, false, 0.5);
  return {c.a0 * s_, c.a1 * s_, c.var * s_ * s_, 0, c.entry};
}

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
  // With reflecting faces: reflecting[2 i] (face low[i]) and reflecting[2 i + 1] (face high[i]) non-zero. A
  // reflecting face is a wall the path is mirrored at: for every other test the box is unbounded there.
  Box(Vector low, Vector high, const std::vector<std::uint8_t>& reflecting) : Box(std::move(low), std::move(high)) {
    const int d = dim();
    require(static_cast<int>(reflecting.size()) == 2 * d, "reflecting", std::to_string(reflecting.size()) + " flags",
            "one flag per face (" + std::to_string(2 * d) + ")");
    wall_lo_ = lo_;
    wall_hi_ = hi_;
    refl_.assign(reflecting.begin(), reflecting.end());
    constexpr double inf = std::numeric_limits<double>::infinity();
    for (int i = 0; i < d; ++i) {
      if (refl_[2 * i]) {
        require(std::isfinite(lo_[i]), "reflecting", "an infinite face low[" + std::to_string(i) + "]",
                "finite faces only");
        lo_[i] = -inf;
      }
      if (refl_[2 * i + 1]) {
        require(std::isfinite(hi_[i]), "reflecting", "an infinite face high[" + std::to_string(i) + "]",
                "finite faces only");
        hi_[i] = inf;
      }
      any_refl_ = any_refl_ || refl_[2 * i] || refl_[2 * i + 1];
    }
  }
  int dim() const override { return static_cast<int>(lo_.size()); }
  std::string name() const override { return "Box"; }
  int n_faces() const override { return 2 * dim(); }
  bool far_faces() const override { return true; }
  bool reflects() const override { return any_refl_; }
  // Coordinate by coordinate: beyond one reflecting face, the mirror image; between two, folded into the slab
  // (the mirror images repeated, for a step longer than the box).
  void reflect(double* x, int width) const override {
    if (!any_refl_) return;
    const int d = dim();
    for (int i = 0; i < d; ++i) {
      const bool rl = refl_[2 * i], rh = refl_[2 * i + 1];
      if (!rl && !rh) continue;
      const double a = wall_lo_[i], b = wall_hi_[i];
      for (int l = 0; l < width; ++l) {
        double& xi = x[static_cast<long>(l) * d + i];
        if (rl && rh) {
          if (xi >= a && xi <= b) continue;
          const double len = b - a;
          double y = std::fmod(xi - a, 2.0 * len);
          if (y < 0) y += 2.0 * len;
          xi = y <= len ? a + y : a + (2.0 * len - y);
        } else if (rl) {
          if (xi < a) xi = 2.0 * a - xi;
        } else if (xi > b) {
          xi = 2.0 * b - xi;
        }
      }
    }
  }
  int exit_face(const double* x0, const double* x1, bool from_inside) const override {
    const int d = dim();
    if (from_inside) {
      // The slab the chord leaves first (x0 inside); with x0 outside, the face x1 lies farthest beyond.
      double first = std::numeric_limits<double>::infinity();
      int face = -1;
      for (int i = 0; i < d; ++i) {
        const double e = x1[i] - x0[i];
        if (!(x1[i] <= lo_[i] || x1[i] >= hi_[i]) || e == 0.0) continue;
        const double t = x1[i] <= lo_[i] ? (lo_[i] - x0[i]) / e : (hi_[i] - x0[i]) / e;
        if (t < first) {
          first = t;
          face = x1[i] <= lo_[i] ? 2 * i : 2 * i + 1;
        }
      }
      return face >= 0 ? face : farthest_face(x1);
    }
    const int entry = entry_face(x0, x1);
    return entry >= 0 ? entry : farthest_face(x1);
  }
  bool contains(const double* x) const override {
    bool in = true;
    for (int i = 0; i < dim(); ++i) in = in && lo_[i] < x[i] && x[i] < hi_[i];
    return in;
  }
  void inside_planes(const double* x0, const double* x1, const Diffusion& D, double dt,
                     std::vector<CrossingPlane>& out) const override {
    for (int f = 0; f < 2 * dim(); ++f) out.push_back(face_plane(x0, x1, D, dt, f));
  }
  // Two coordinates or more in which the bridge could cross one of the box's two planes (each coordinate's own
  // bridge, above `likely`; an end on each side of a plane counting as sure): near an edge or a corner of the box.
  // A box with a finite face in one coordinate only (a band) has no edge.
  bool has_edges() const override {
    int faced = 0;
    for (int i = 0; i < dim(); ++i) faced += std::isfinite(lo_[i]) || std::isfinite(hi_[i]);
    return faced >= 2;
  }
  bool polyhedral() const override { return !any_refl_; }
  bool edge_within_reach(const double* x0, const double* x1, const Diffusion& D, double dt,
                         double likely) const override {
    int near = 0;
    for (int i = 0; i < dim() && near < 2; ++i) {
      const double c = exponent_factor(D.component(i) * dt);
      const double lo = probability_of_exponent(bridge_exponent(x0[i] - lo_[i], x1[i] - lo_[i], c));
      const double hi = probability_of_exponent(bridge_exponent(hi_[i] - x0[i], hi_[i] - x1[i], c));
      near += lo > likely || hi > likely;
    }
    return near >= 2;
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
          const double lo = probability_of_exponent(bridge_exponent(x0[o + i] - lo_[i], x1[o + i] - lo_[i], c));
          const double hi = probability_of_exponent(bridge_exponent(hi_[i] - x0[o + i], hi_[i] - x1[o + i], c));
          const SlabExits e =
              reachable_slab(lo, hi, x0[o + i] - lo_[i], x1[o + i] - lo_[i], hi_[i] - lo_[i], D.component(i) * dt);
          if (!(e.low + e.high > 0)) {  // the faces' own bridges: one out of reach (or too thin a slab)
            survive *= 1.0 - lo;
            survive *= 1.0 - hi;
          } else {
            survive *= 1.0 - std::min(1.0, e.low + e.high);
          }
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
  // From inside: the face crossed first among those that could have been crossed (first_crossed, with u), or, with
  // more than kMaxFirstCrossed of them, one in proportion to its bridge crossing probability (1 for a face whose
  // plane the end point is on or beyond). From outside: the
  // face through which the step's chord enters the box when it does (the end point inside, or a chord through
  // the box), else the tangent plane at the box's point nearest to the end point, as crossing_probability, on
  // the face the end point lies farthest beyond.
  CrossingPlane crossing_plane(const double* x0, const double* x1, const Diffusion& D, double dt, bool from_inside,
                               double u) const override {
    const int d = dim();
    if (from_inside) {
      std::vector<CrossingPlane> faces;
      inside_planes(x0, x1, D, dt, faces);
      double total = 0.0;
      int nearest = 0;
      for (int f = 0; f < 2 * d; ++f) {
        total += plane_probability(faces[static_cast<std::size_t>(f)]);
        if (faces[static_cast<std::size_t>(f)].a1 < faces[static_cast<std::size_t>(nearest)].a1) nearest = f;
      }
      if (!(total > 0)) return faces[static_cast<std::size_t>(nearest)];
      return first_face(faces, u);
    }
    const int entry = entry_face(x0, x1);
    if (entry >= 0) {
      const CrossingPlane c = face_plane(x0, x1, D, dt, entry);
      return {-c.a0, -c.a1, c.var, entry};  // measured from outside
    }
    Vector n(d);
    const double a0 = outside_distance(x0, nullptr), a1 = outside_distance(x1, n.data());
    return {a0, a1, D.along(n.data(), d) * dt, farthest_face(x1)};
  }
  // The face crossed first among faces, a slab's two faces that could both have been crossed as one candidate: its
  // end drawn by slab_exits (with a part of u, the rest rescaled for first_crossed), its probability the slab's.
  CrossingPlane first_face(const std::vector<CrossingPlane>& faces, double u) const {
    std::vector<CrossingPlane> candidates;
    std::vector<double> probability;
    bool slabs = false;
    for (std::size_t f = 0; f + 1 < faces.size(); f += 2) {
      const std::size_t i = f / 2;
      const double lo = plane_probability(faces[f]), hi = plane_probability(faces[f + 1]);
      const SlabExits e = reachable_slab(lo, hi, faces[f].a0, faces[f].a1, hi_[i] - lo_[i], faces[f].var);
      if (!(e.low + e.high > 0)) {
        candidates.push_back(faces[f]);
        candidates.push_back(faces[f + 1]);
        probability.push_back(lo);
        probability.push_back(hi);
        continue;
      }
      slabs = true;
      const double both = e.low + e.high, share = e.low / both;  // u < share: the low face, u rescaled
      const bool high = !(u < share);
      u = high ? (u - share) / (1.0 - share) : u / share;
      u = std::min(std::max(u, 1e-300), 1.0 - 1e-16);
      candidates.push_back(faces[f + high]);
      probability.push_back(std::min(1.0, both));
    }
    return slabs ? first_crossed(candidates, u, &probability) : first_crossed(faces, u);
  }
  double scale(const double*) const override {
    double m = 0;
    for (const Vector* v : {&lo_, &hi_, &wall_lo_, &wall_hi_})  // the walls are empty without reflecting faces
      for (const double b : *v)
        if (std::isfinite(b)) m = std::max(m, std::abs(b));
    return m;
  }
  // The face's coordinate set to its bound, the others clamped into [low, high]: the nearest point of the face.
  void to_boundary(double* x, int face) const override {
    const int k = face / 2;
    for (int i = 0; i < dim(); ++i) x[i] = std::min(std::max(x[i], lo_[i]), hi_[i]);
    x[k] = face % 2 ? hi_[k] : lo_[k];
  }
  bool normal(const double*, int face, double* n) const override {
    for (int i = 0; i < dim(); ++i) n[i] = i == face / 2;
    return true;
  }
  bool over_face(const double* x, int face) const override {
    for (int i = 0; i < dim(); ++i)
      if (i != face / 2 && !(x[i] >= lo_[i] && x[i] <= hi_[i])) return false;
    return true;
  }
  bool convex() const override { return !any_refl_; }
  void project(double* x) const override {
    for (int i = 0; i < dim(); ++i) x[i] = std::min(std::max(x[i], lo_[i]), hi_[i]);
  }
  bool half_spaces(std::vector<std::pair<Vector, double>>& out) const override {
    if (any_refl_) return false;
    for (int i = 0; i < dim(); ++i) {
      const Vector e = Vector::Unit(dim(), i);
      if (std::isfinite(lo_[i])) out.emplace_back(-e, -lo_[i]);
      if (std::isfinite(hi_[i])) out.emplace_back(e, hi_[i]);
    }
    return true;
  }
  using Region::signed_distance;
  // Inside: the distance to the nearest face; outside: the distance to the box.
  double signed_distance(const double* x) const override {
    if (contains(x)) {
      double near = std::numeric_limits<double>::infinity();
      for (int i = 0; i < dim(); ++i) near = std::min(near, std::min(x[i] - lo_[i], hi_[i] - x[i]));
      return near;
    }
    double out2 = 0;
    for (int i = 0; i < dim(); ++i) {
      const double e = std::max(std::max(lo_[i] - x[i], x[i] - hi_[i]), 0.0);
      out2 += e * e;
    }
    return -std::sqrt(out2);
  }

 private:
  // The face x lies farthest beyond (the one nearest for a point inside).
  int farthest_face(const double* x) const {
    int face = 0;
    double farthest = -std::numeric_limits<double>::infinity();  // an infinite bound is never chosen
    if (any_refl_) {  // a point beyond a reflecting wall (placed there: a start or a restart) is beyond that face
      for (int i = 0; i < dim(); ++i) {
        const double below = refl_[2 * i] ? wall_lo_[i] - x[i] : 0.0;
        const double above = refl_[2 * i + 1] ? x[i] - wall_hi_[i] : 0.0;
        if (below > 0 && below > farthest) {
          farthest = below;
          face = 2 * i;
        }
        if (above > 0 && above > farthest) {
          farthest = above;
          face = 2 * i + 1;
        }
      }
      if (farthest > 0) return face;
    }
    for (int i = 0; i < dim(); ++i) {
      const double below = lo_[i] - x[i], above = x[i] - hi_[i];
      if (below > farthest) {
        farthest = below;
        face = 2 * i;
      }
      if (above > farthest) {
        farthest = above;
        face = 2 * i + 1;
      }
    }
    return face;
  }
  // Face f's plane measured from inside: a0, a1 the distances of x0, x1 from it on the box's side.
  CrossingPlane face_plane(const double* x0, const double* x1, const Diffusion& D, double dt, int f) const {
    const int i = f / 2;
    const double var = D.component(i) * dt;
    if (f % 2) return {hi_[i] - x0[i], hi_[i] - x1[i], var, f};
    return {x0[i] - lo_[i], x1[i] - lo_[i], var, f};
  }
  // The face through which the segment x0 -> x1 enters the open box (Liang-Barsky: the slab whose entry comes
  // last), or -1 if the segment misses it.
  int entry_face(const double* x0, const double* x1) const {
    if (!segment_meets(x0, x1)) return -1;
    double t0 = -std::numeric_limits<double>::infinity();
    int face = -1;
    for (int i = 0; i < dim(); ++i) {
      const double e = x1[i] - x0[i];
      if (e == 0.0) continue;
      const double ta = e > 0 ? (lo_[i] - x0[i]) / e : (hi_[i] - x0[i]) / e;  // where the slab is entered
      if (ta > t0) {
        t0 = ta;
        face = 2 * i + (e > 0 ? 0 : 1);
      }
    }
    return face;
  }
  // Whether the segment x0 -> x1 passes through the open box (Liang-Barsky clipping against each slab).
  bool segment_meets(const double* x0, const double* x1) const {
    double t0 = 0.0, t1 = 1.0;
    return chord_slabs(x0, x1, t0, t1);
  }
  // Whether the chord x0 -> x1 passes through the box, and the part [t0, t1] of it that does (t0 = 0, t1 = 1 on
  // entry).
  bool chord_slabs(const double* x0, const double* x1, double& t0, double& t1) const {
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

 public:
  bool chord_inside(const double* x0, const double* x1, std::vector<Interval>& out) const override {
    double t0 = 0.0, t1 = 1.0;
    if (chord_slabs(x0, x1, t0, t1)) out.emplace_back(t0, t1);  // reflecting faces are at infinity (contains)
    return true;
  }

 private:
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
  Vector lo_, hi_;                 // the absorbing bounds (infinite at a reflecting face)
  Vector wall_lo_, wall_hi_;       // the reflecting walls
  std::vector<std::uint8_t> refl_;  // per face; empty without reflecting faces
  bool any_refl_ = false;
};

// The complement {x : x not in inner} of a region: leaving it is entering the inner region, so a region used as
// `stop` of one problem can be the set a path must enter in another. The regions above are open sets, so their
// complements are closed: a point on the inner region's boundary is not in the (open) inner region and therefore
// lies in Outside. Every test delegates to the inner region: a bridge crossing the complement's boundary is a
// bridge crossing the inner boundary with from_inside flipped (inside the complement is outside the inner
// region), and the crossing plane is the inner region's, measured from the side the path starts on
// (CrossingPlane's a0 >= 0 there) with that same flip. Faces, noise frames and exits onto the boundary are the
// inner region's own, so Outside works wherever its inner region does, bit for bit.
class Outside final : public Region {
 public:
  explicit Outside(std::shared_ptr<const Region> inner) : inner_(std::move(inner)) {
    require(inner_ != nullptr, "region", "None", "a region");
  }
  const std::shared_ptr<const Region>& inner() const { return inner_; }
  int dim() const override { return inner_->dim(); }
  std::string name() const override { return "~" + inner_->name(); }
  bool contains(const double* x) const override { return !inner_->contains(x); }
  void contains(const double* x, int width, std::uint8_t* inside) const override {
    inner_->contains(x, width, inside);
    for (int l = 0; l < width; ++l) inside[l] = inside[l] ? 0 : 1;
  }
  void crossing_probability(const double* x0, const double* x1, int width, const Diffusion& D, double dt,
                            bool from_inside, double* p) const override {
    inner_->crossing_probability(x0, x1, width, D, dt, !from_inside, p);
  }
  CrossingPlane crossing_plane(const double* x0, const double* x1, const Diffusion& D, double dt, bool from_inside,
                               double u) const override {
    return inner_->crossing_plane(x0, x1, D, dt, !from_inside, u);
  }
  void outside_planes(const double* x0, const double* x1, const Diffusion& D, double dt,
                      std::vector<CrossingPlane>& out) const override {
    inner_->inside_planes(x0, x1, D, dt, out);  // entering the complement is leaving the inner region
  }
  // Leaving the complement is entering the inner region: its planes of entry, where that has a probability. A step
  // that cannot enter it (a union's members' faces inside the union, far from the corner where the union can be
  // left) gets a plane from the inner region's fallback all the same, a member's face that is no way out; merged
  // with a target's parallel face (merge_parallel_faces) it took the target's crossing away. A complement's
  // complement gives every plane of the region it is (one plane for a square given as ~(four half-planes' union)
  // had merge_parallel_faces take all of stop out with that one).
  void inside_planes(const double* x0, const double* x1, const Diffusion& D, double dt,
                     std::vector<CrossingPlane>& out) const override {
    double p = 0.0;
    inner_->crossing_probability(x0, x1, 1, D, dt, false, &p);
    if (p > 0) inner_->outside_planes(x0, x1, D, dt, out);
  }
  void to_boundary(double* x, int face) const override { inner_->to_boundary(x, face); }
  void to_entered_boundary(double* x, int face, const double* p) const override {
    inner_->to_entered_boundary(x, face, p);
  }
  void to_set_boundary(double* x) const override { inner_->to_set_boundary(x); }
  void onto_nearest_boundary(double* x) const override { inner_->onto_nearest_boundary(x); }
  int face_at(const double* x, int face) const override { return inner_->face_at(x, face); }
  bool normal(const double* x, int face, double* n) const override { return inner_->normal(x, face, n); }
  bool over_face(const double* x, int face) const override { return inner_->over_face(x, face); }
  int n_faces() const override { return inner_->n_faces(); }
  bool open_beyond() const override { return inner_->far_faces(); }
  int exit_face(const double* x0, const double* x1, bool from_inside) const override {
    return inner_->exit_face(x0, x1, !from_inside);
  }
  bool chord_inside(const double* x0, const double* x1, std::vector<Interval>& out) const override {
    std::vector<Interval> in;
    if (!inner_->chord_inside(x0, x1, in)) return false;
    double from = 0.0;  // the gaps between the inner region's intervals
    for (const Interval& v : in) {
      if (v.first > from) out.emplace_back(from, v.first);
      from = std::max(from, v.second);
    }
    if (from < 1.0) out.emplace_back(from, 1.0);
    return true;
  }
  double signed_distance(const double* x) const override { return -inner_->signed_distance(x); }
  double scale(const double* x) const override { return inner_->scale(x); }
  void signed_distance(const double* x, int width, double* out) const override {
    inner_->signed_distance(x, width, out);
    for (int l = 0; l < width; ++l) out[l] = -out[l];
  }

 private:
  std::shared_ptr<const Region> inner_;
};

// The intersection of several regions (a path stays inside all of them); the union of regions is the complement
// of the intersection of their complements. Faces are numbered member by member: member j's face f is face
// offset(j) + f. Leaving the intersection is leaving one member: the bridge's probability of leaving multiplies
// the members' survival probabilities (as a box's faces), and the crossing plane is a member's, drawn with
// probability proportional to its crossing probability. Entering it from outside is taken, near a single member's
// boundary, as entering that member (both end points outside it and inside all the others); otherwise as certain
// if the step starts on the intersection's boundary or its chord passes through the intersection (a thin slab of
// two half-spaces; a union of disjoint balls, left between them), else by the members' faces that lead into it, as
// independent crossings (entering_planes: nested boundaries and the overlap of a union's members count once), and
// as impossible when no face leads in (a corner the chord passes round: the end points decide). Reflecting members
// reflect in turn.
class Intersection final : public Region {
 public:
  explicit Intersection(std::vector<std::shared_ptr<const Region>> members) : members_(std::move(members)) {
    require(!members_.empty(), "regions", "an empty list", "at least one region");
    for (const auto& r : members_) require(r != nullptr, "regions", "None", "regions");
    const int d = members_[0]->dim();
    int offset = 0;
    for (const auto& r : members_) {
      require(r->dim() == d, "regions", r->name() + " of dimension " + std::to_string(r->dim()),
              "regions of one dimension (" + std::to_string(d) + ")");
      offsets_.push_back(offset);
      offset += r->n_faces();
      reflects_ = reflects_ || r->reflects();
      open_beyond_.push_back(r->open_beyond());
      convex_ = convex_ && r->convex();
      polyhedral_ = polyhedral_ && r->polyhedral();
    }
    offsets_.push_back(offset);
    if (convex_) {
      build_leaves();
      hollow_ = no_interior();
    }
  }
  const std::vector<std::shared_ptr<const Region>>& members() const { return members_; }
  int dim() const override { return members_[0]->dim(); }
  std::string name() const override { return "Intersection"; }
  int n_faces() const override { return offsets_.back(); }
  bool far_faces() const override { return true; }
  bool contains(const double* x) const override {
    for (const auto& r : members_)
      if (!r->contains(x)) return false;
    return true;
  }
  void contains(const double* x, int width, std::uint8_t* inside) const override {
    members_[0]->contains(x, width, inside);
    std::vector<std::uint8_t> more(static_cast<std::size_t>(width));
    for (std::size_t j = 1; j < members_.size(); ++j) {
      members_[j]->contains(x, width, more.data());
      for (int l = 0; l < width; ++l) inside[l] = inside[l] && more[static_cast<std::size_t>(l)];
    }
  }
  void crossing_probability(const double* x0, const double* x1, int width, const Diffusion& D, double dt,
                            bool from_inside, double* p) const override {
    const int d = dim();
    const std::size_t m = members_.size(), w = static_cast<std::size_t>(width);
    if (hollow_ && !from_inside) {  // no point to enter
      std::fill(p, p + width, 0.0);
      return;
    }
    if (from_inside) {
      std::vector<double> q(m * w);  // member j's crossing probabilities at q[j * w ...]
      for (std::size_t j = 0; j < m; ++j) members_[j]->crossing_probability(x0, x1, width, D, dt, true, q.data() + j * w);
      std::vector<double> ql(m);
      std::vector<std::vector<CrossingPlane>> planes;
      for (int l = 0; l < width; ++l) {
        int near = 0;
        for (std::size_t j = 0; j < m; ++j) {
          ql[j] = q[j * w + static_cast<std::size_t>(l)];
          near += ql[j] > 0;
        }
        if (near > 1) merge_members(x0 + static_cast<long>(l) * d, x1 + static_cast<long>(l) * d, D, dt, ql, planes);
        double survive = 1.0;  // survival, then 1 - survival
        for (std::size_t j = 0; j < m; ++j) survive *= 1.0 - ql[j];
        p[l] = 1.0 - survive;
      }
      return;
    }
    std::vector<Interval> chord, own_chord;
    std::vector<CrossingPlane> planes;
    const double spread = largest_variance(D) * dt * d;  // bounds the bridge's squared deviation per coordinate
    for (int l = 0; l < width; ++l) {
      const long o = static_cast<long>(l) * d;
      const int j = sole_excluder(x0 + o, x1 + o);
      chord.clear();
      if (!(j >= 0 && alone(j))) {
        const double s0 = signed_distance(x0 + o);
        if (s0 >= 0) {  // a start on the set's boundary (on the face of each member that excludes it): enters at once
          p[l] = 1.0;
          continue;
        }
        if (negligible_entry(s0, x0 + o, x1 + o, spread)) {
          p[l] = 0.0;
          continue;
        }
        if (chord_inside(x0 + o, x1 + o, chord) && !chord.empty()) {  // a chord through the set: sure
          p[l] = 1.0;
          continue;
        }
      } else {  // one member in the way and no other face that could lead in: its own test
        members_[static_cast<std::size_t>(j)]->crossing_probability(x0 + o, x1 + o, 1, D, dt, false, p + l);
        // a sure crossing by its chord, unless the chord misses the set (the rest of it outside another member)
        if (p[l] < 1.0 || !chord_inside(x0 + o, x1 + o, chord) || !chord.empty()) continue;
        // or by a start on j's plane (a0 = 0), inside every other member: the bridge enters the set at once
        own_chord.clear();
        if (members_[static_cast<std::size_t>(j)]->chord_inside(x0 + o, x1 + o, own_chord) && own_chord.empty())
          continue;
      }
      CrossingPlane nearest;
      if (convex_ && nearest_plane(x0 + o, x1 + o, D, dt, nearest)) {
        p[l] = plane_probability(nearest);
        continue;
      }
      planes.clear();
      entering_planes(x0 + o, x1 + o, D, dt, planes);
      double survive = 1.0;  // the open faces the bridge could have met, as independent crossings
      for (const CrossingPlane& c : planes) survive *= 1.0 - plane_probability(c);
      p[l] = 1.0 - survive;
    }
  }
  CrossingPlane crossing_plane(const double* x0, const double* x1, const Diffusion& D, double dt, bool from_inside,
                               double u) const override {
    if (!from_inside) {
      std::vector<std::vector<Interval>> parts;  // the members' parts of the chord, and the set's: found once
      std::vector<Interval> all;
      const bool chords = chord_parts(x0, x1, all, &parts);
      int j = sole_excluder(x0, x1);
      // as crossing_probability: j's own test unless the chord passes through j but misses the set
      const bool own = j >= 0 && alone(j) && !(chords && all.empty() && !parts[static_cast<std::size_t>(j)].empty());
      if (!own && signed_distance(x0) >= 0) {  // a start on the set's boundary: by the face it lies on, at once
        j = on_boundary_member(x0);
      } else if (!own) {
        j = chords ? entry_member(parts, all) : -1;  // a chord through the set: where it enters
        CrossingPlane nearest;
        if (j < 0 && !contains(x1) && convex_ && nearest_plane(x0, x1, D, dt, nearest)) return nearest;
        if (j < 0 && !contains(x1)) {  // the first crossed of the faces that lead in
          std::vector<CrossingPlane> planes;
          entering_planes(x0, x1, D, dt, planes);
          if (!planes.empty()) return first_crossed(planes, u);
        }
      }
      if (j < 0) j = sole_excluder(x0, x1);
      if (j < 0) j = member_of_face(exit_face(x0, x1, false));
      return shifted(members_[static_cast<std::size_t>(j)]->crossing_plane(x0, x1, D, dt, false, u),
                     offsets_[static_cast<std::size_t>(j)]);
    }
    // One member that could have been crossed: it (through the proportional choice below, whose other members have
    // probability 0), with u rescaled to choose within it; several: the first plane crossed among theirs.
    const std::size_t m = members_.size();
    std::vector<double> pr(m);
    int near = 0;
    for (std::size_t j = 0; j < m; ++j) {
      if (!members_[j]->contains(x1)) {
        pr[j] = 1.0;
      } else {
        members_[j]->crossing_probability(x0, x1, 1, D, dt, true, &pr[j]);
      }
      near += pr[j] > 0;
    }
    if (near > 1) {
      // Several members could have been crossed: of all their planes but the hidden ones, the first crossed, as a
      // box's faces (first_crossed).
      std::vector<std::vector<CrossingPlane>> planes;
      merge_members(x0, x1, D, dt, pr, planes);
      std::vector<CrossingPlane> open;
      for (std::size_t j = 0; j < m; ++j)
        for (const CrossingPlane& a : planes[j])
          if (!dominated(planes, j, a))
            open.push_back(shifted({a.a0, a.a1, a.var, a.face, -1.0, false, a.corner}, offsets_[j]));
      if (!open.empty()) return first_crossed(open, u);
    }
    double total = 0;
    for (std::size_t j = 0; j < m; ++j) total += pr[j];
    std::size_t chosen = m;
    double low = 0.0, width = 1.0;
    if (total > 0) {
      const double target = u * total;
      double acc = 0;
      for (std::size_t j = 0; j < m; ++j) {
        if (!(pr[j] > 0)) continue;
        chosen = j;
        low = acc;
        width = pr[j];
        acc += pr[j];
        if (target < acc) break;
      }
    }
    if (chosen == m) chosen = static_cast<std::size_t>(member_of_face(exit_face(x0, x1, true)));
    const double v = total > 0 ? std::min(std::max((u * total - low) / width, 1e-300), 1.0 - 1e-16) : u;
    return shifted(members_[chosen]->crossing_plane(x0, x1, D, dt, true, v), offsets_[chosen]);
  }
  // Every member's planes but those hidden behind another member's parallel plane (merge_nested_members).
  void inside_planes(const double* x0, const double* x1, const Diffusion& D, double dt,
                     std::vector<CrossingPlane>& out) const override {
    std::vector<std::vector<CrossingPlane>> planes(members_.size());
    for (std::size_t j = 0; j < members_.size(); ++j) {
      members_[j]->inside_planes(x0, x1, D, dt, planes[j]);
      for (CrossingPlane& c : planes[j]) c = shifted(c, offsets_[j]);
    }
    for (std::size_t j = 0; j < members_.size(); ++j)
      for (const CrossingPlane& a : planes[j])
        if (!dominated(planes, j, a)) out.push_back(a);
  }
  void to_boundary(double* x, int face) const override {
    const int j = member_of_face(face);
    members_[static_cast<std::size_t>(j)]->to_boundary(x, face - offsets_[static_cast<std::size_t>(j)]);
  }
  void to_entered_boundary(double* x, int face, const double* p) const override {
    const int j = member_of_face(face);
    members_[static_cast<std::size_t>(j)]->to_entered_boundary(x, face - offsets_[static_cast<std::size_t>(j)], p);
  }
  int face_at(const double* x, int face) const override {
    const std::size_t j = static_cast<std::size_t>(member_of_face(face));
    const double at = largest_coordinate(x, dim());
    if (std::abs(members_[j]->signed_distance(x)) <= placement_tolerance(*members_[j], x, at)) return face;
    const int k = on_boundary_member(x);
    if (k < 0) return face;
    const std::size_t m = static_cast<std::size_t>(k);
    return offsets_[m] + members_[m]->exit_face(x, x, false);
  }
  void to_set_boundary(double* x) const override {
    // a point on the set's boundary (to the tolerance of a placed crossing) stays as it is
    if (signed_distance(x) >= -placement_tolerance(*this, x, largest_coordinate(x, dim()))) return;
    if (convex_) {
      Vector y = Eigen::Map<const Vector>(x, dim());
      if (nearest_point(y.data())) std::copy(y.data(), y.data() + dim(), x);
      return;
    }
    // Not convex (a Union's complement, a set with a reflecting wall): onto the boundary of the member x lies
    // farthest beyond; where that takes it beyond another member, onto the corner of the two (Newton's steps on
    // both signed distances; alternating projections crawl where the faces meet at a small angle).
    for (int round = 0; round < kBoundaryRounds; ++round) {
      const std::size_t k = farthest_beyond(x);
      if (k == members_.size()) return;
      members_[k]->onto_nearest_boundary(x);
      const std::size_t j = farthest_beyond(x);
      if (j != members_.size() && !onto_corner_of(x, k, j)) return;
    }
  }
  // From inside, onto the nearest member's boundary; from outside, to_set_boundary.
  void onto_nearest_boundary(double* x) const override {
    if (!contains(x)) return to_set_boundary(x);
    members_[deciding_member(x)]->onto_nearest_boundary(x);
  }
  // The member whose signed distance is the set's at x (the smallest; the first of equals).
  std::size_t deciding_member(const double* x) const {
    std::size_t deciding = 0;
    double s = std::numeric_limits<double>::infinity();
    for (std::size_t j = 0; j < members_.size(); ++j) {
      const double sj = members_[j]->signed_distance(x);
      if (sj < s) {
        s = sj;
        deciding = j;
      }
    }
    return deciding;
  }
  // The member x lies farthest beyond (outside it by more than the tolerance of a placed crossing), or
  // members_.size() where none.
  std::size_t farthest_beyond(const double* x) const {
    const double at = largest_coordinate(x, dim());
    std::size_t farthest = members_.size();
    double beyond = 0;
    for (std::size_t j = 0; j < members_.size(); ++j) {
      const double s = members_[j]->signed_distance(x);
      if (s < -placement_tolerance(*members_[j], x, at) && s < beyond) {
        beyond = s;
        farthest = j;
      }
    }
    return farthest;
  }
  // x, on member a's boundary but beyond member b, moved onto both boundaries: the least step onto both tangent
  // planes (the signed distances' gradients by central differences), repeated while it converges; false where it
  // does not (parallel faces, no corner near).
  bool onto_corner_of(double* x, std::size_t a, std::size_t b) const {
    const int d = dim();
    const Region &A = *members_[a], &B = *members_[b];
    Vector ga(d), gb(d), y(d);
    for (int iteration = 0; iteration < kCornerIterations; ++iteration) {
      const double at = largest_coordinate(x, d);
      const double sa = A.signed_distance(x), sb = B.signed_distance(x);
      if (std::abs(sa) <= placement_tolerance(A, x, at) && std::abs(sb) <= placement_tolerance(B, x, at)) return true;
      const double h = 1e-7 * std::max({at, A.scale(x), B.scale(x)});
      for (int i = 0; i < d; ++i) {
        std::copy(x, x + d, y.data());
        y[i] = x[i] + h;
        const double pa = A.signed_distance(y.data()), pb = B.signed_distance(y.data());
        y[i] = x[i] - h;
        ga[i] = (pa - A.signed_distance(y.data())) / (2 * h);
        gb[i] = (pb - B.signed_distance(y.data())) / (2 * h);
      }
      const double aa = ga.squaredNorm(), bb = gb.squaredNorm(), ab = ga.dot(gb), det = aa * bb - ab * ab;
      if (!(det > 1e-12 * aa * bb)) return false;  // parallel (or no gradient): no corner to find
      const double alpha = (-sa * bb + sb * ab) / det, beta = (-sb * aa + sa * ab) / det;
      for (int i = 0; i < d; ++i) x[i] += alpha * ga[i] + beta * gb[i];
      if (!std::all_of(x, x + d, [](double v) { return std::isfinite(v); })) return false;
    }
    return false;
  }
  static constexpr int kCornerIterations = 30;
  static constexpr int kBoundaryRounds = 16;
  bool convex() const override { return convex_; }
  bool polyhedral() const override { return polyhedral_; }
  bool has_edges() const override { return polyhedral_ && !hollow_ && dim() >= 2; }
  // Near an edge: two members' boundaries each within reach of the bridge (above `likely`; crossing a boundary
  // from either side, an end on each side counting as sure) that are not parallel (a slab's two half-spaces are:
  // counted once, as a box's two faces in one coordinate), or a member's own edge; as Box::edge_within_reach for a
  // box given as half-spaces.
  bool edge_within_reach(const double* x0, const double* x1, const Diffusion& D, double dt,
                         double likely) const override {
    if (!has_edges()) return false;
    const int d = dim();
    std::vector<double> first(static_cast<std::size_t>(d)), n(static_cast<std::size_t>(d));
    bool near = false, first_known = false;
    for (const auto& r : members_) {
      if (r->edge_within_reach(x0, x1, D, dt, likely)) return true;
      const bool in0 = r->contains(x0), in1 = r->contains(x1);
      double p = 1.0;
      if (in0 == in1) r->crossing_probability(x0, x1, 1, D, dt, in0, &p);
      if (!(p > likely)) continue;
      const bool known = r->n_faces() == 1 && r->normal(x1, 0, n.data());  // a half-space's normal
      if (!near) {
        near = true;
        first_known = known;
        first.swap(n);
        continue;
      }
      if (!known || !first_known) return true;
      double ab = 0, aa = 0, bb = 0;
      for (std::size_t i = 0; i < first.size(); ++i) {
        ab += first[i] * n[i];
        aa += first[i] * first[i];
        bb += n[i] * n[i];
      }
      if (!(ab * ab >= (1.0 - 1e-12) * aa * bb)) return true;  // not parallel: an edge
    }
    return false;
  }
  // The nearest point of the (convex) set to x, in place (nearest, below); false where it cannot be found (an empty
  // set, no convergence).
  bool nearest_point(double* x) const { return nearest(x) == NearestInPolyhedron::Outcome::found; }
  void project(double* x) const override { nearest_point(x); }
  bool normal(const double* x, int face, double* n) const override {
    const int j = member_of_face(face);
    return members_[static_cast<std::size_t>(j)]->normal(x, face - offsets_[static_cast<std::size_t>(j)], n);
  }
  // Over the member's face and within every other member's closure.
  bool over_face(const double* x, int face) const override {
    const std::size_t j = static_cast<std::size_t>(member_of_face(face));
    return members_[j]->over_face(x, face - offsets_[j]) && within_others(x, j, largest_coordinate(x, dim()));
  }
  // Leaving: among the members x1 is outside, the one whose boundary the chord meets first (the signed
  // distances interpolated linearly). Entering: the member whose boundary x1 lies on, for an x1 on the
  // intersection's boundary (a located exit); else the one through whose boundary the chord enters, or among those
  // x0 is outside, the one it meets last. Of members met at once (a point, x0 == x1: a start outside), the one x1
  // lies farthest beyond, as a box's face.
  int exit_face(const double* x0, const double* x1, bool from_inside) const override {
    if (!from_inside) {
      int j = on_boundary_member(x1);
      if (j < 0) j = chord_entry_member(x0, x1);
      if (j >= 0) {
        const std::size_t m = static_cast<std::size_t>(j);
        return offsets_[m] + members_[m]->exit_face(x0, x1, false);
      }
    }
    int best = -1;
    double best_t = from_inside ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
    double best_s1 = 0;
    for (std::size_t j = 0; j < members_.size(); ++j) {
      const Region& r = *members_[j];
      const bool out = from_inside ? !r.contains(x1) : !r.contains(x0);
      if (!out) continue;
      const double s0 = r.signed_distance(x0), s1 = r.signed_distance(x1);
      double t = s0 != s1 ? s0 / (s0 - s1) : 0.0;
      if (!std::isfinite(t)) t = 0.0;
      if (best < 0 || (from_inside ? t < best_t : t > best_t) || (t == best_t && s1 < best_s1)) {
        best = static_cast<int>(j);
        best_t = t;
        best_s1 = s1;
      }
    }
    if (best < 0) return 0;
    const std::size_t j = static_cast<std::size_t>(best);
    return offsets_[j] + members_[j]->exit_face(x0, x1, from_inside);
  }
  double signed_distance(const double* x) const override {
    double s = std::numeric_limits<double>::infinity();
    for (const auto& r : members_) s = std::min(s, r->signed_distance(x));
    return s;
  }
  // The scale of the member whose signed distance is the set's at x: the one whose rounding it has.
  double scale(const double* x) const override {
    return members_[deciding_member(x)]->scale(x);
  }
  bool chord_inside(const double* x0, const double* x1, std::vector<Interval>& out) const override {
    return chord_parts(x0, x1, out, nullptr);
  }
  // chord_inside, and each member's part of the chord in (*parts)[j] when parts is given.
  bool chord_parts(const double* x0, const double* x1, std::vector<Interval>& out,
                   std::vector<std::vector<Interval>>* parts) const {
    std::vector<Interval> all{{0.0, 1.0}}, mine, both;
    if (parts) parts->assign(members_.size(), {});
    for (std::size_t j = 0; j < members_.size(); ++j) {  // intersect the members' intervals, in increasing order
      std::vector<Interval>& member = parts ? (*parts)[j] : mine;
      member.clear();
      if (!members_[j]->chord_inside(x0, x1, member)) return false;
      both.clear();
      for (std::size_t a = 0, b = 0; a < all.size() && b < member.size();) {
        const double lo = std::max(all[a].first, member[b].first), hi = std::min(all[a].second, member[b].second);
        if (lo < hi) both.emplace_back(lo, hi);
        (all[a].second < member[b].second ? a : b) += 1;
      }
      all.swap(both);
    }
    out.insert(out.end(), all.begin(), all.end());
    return true;
  }
  bool reflects() const override { return reflects_; }
  // Each reflecting member mirrors in turn, and the round repeats until one changes nothing: in a wedge of walls
  // meeting at an acute angle one mirror can put a point back beyond the other (a wedge of angle theta needs up to
  // pi / theta of them; at a right angle or wider, or with one wall, the second round is the check).
  void reflect(double* x, int width) const override {
    const int d = dim();
    const std::size_t bytes = static_cast<std::size_t>(d) * sizeof(double);
    double before[kMaxInlineDim];
    std::vector<double> heap(d > kMaxInlineDim ? static_cast<std::size_t>(d) : 0);
    double* const kept = d > kMaxInlineDim ? heap.data() : before;
    for (int l = 0; l < width; ++l) {
      double* xl = x + static_cast<long>(l) * d;
      int round = 0;
      for (; round < kMaxReflectionRounds; ++round) {
        std::memcpy(kept, xl, bytes);
        for (const auto& r : members_)
          if (r->reflects()) r->reflect(xl, 1);
        if (std::memcmp(kept, xl, bytes) == 0) break;  // bitwise: a NaN lane is unchanged
      }
      // still moving (a point thousands of widths beyond two parallel walls): not to be left outside the domain
      if (round == kMaxReflectionRounds)
        for (int i = 0; i < d; ++i) xl[i] = std::numeric_limits<double>::quiet_NaN();
    }
  }
  static constexpr int kMaxReflectionRounds = 1024;  // a wedge of walls as narrow as pi / 1024
  static constexpr int kMaxInlineDim = 16;
  // Whether x lies inside or on every member but j (to 1e-9 of the larger of `at`, a size of x, and the member's
  // size there).
  bool within_others(const double* x, std::size_t j, double at) const {
    for (std::size_t k = 0; k < members_.size(); ++k)
      if (k != j && members_[k]->signed_distance(x) < -placement_tolerance(*members_[k], x, at)) return false;
    return true;
  }
  // The member that face belongs to.
  int member_of_face(int face) const {
    int j = 0;
    while (j + 1 < static_cast<int>(members_.size()) && offsets_[static_cast<std::size_t>(j) + 1] <= face) ++j;
    return j;
  }

 private:
  // merge_nested_members for one lane's step, q its members' crossing probabilities; planes: the members' planes
  // (those of members that could be crossed; faces numbered within the member).
  void merge_members(const double* x0, const double* x1, const Diffusion& D, double dt, std::vector<double>& q,
                     std::vector<std::vector<CrossingPlane>>& planes) const {
    planes.assign(members_.size(), {});
    for (std::size_t j = 0; j < members_.size(); ++j)
      if (q[j] > 0) members_[j]->inside_planes(x0, x1, D, dt, planes[j]);
    merge_nested_members(planes, q);
  }
  // For a step whose two ends lie outside the intersection and whose chord misses it: the planes it could have
  // entered it by. The members' faces (outside_planes) with both ends on their near side (a plane the chord crosses
  // leads into the set only where the chord enters it, which it does not), kept where the crossing point (the
  // chord's point at a0 / (a0 + a1), moved onto the face) lies inside or on every other member: a face of one of a
  // union's members that lies inside another member is no way out of the union, and the far face of a member
  // narrower than the step is one. Two faces that cannot lead in alone (hidden so inside another member, or crossed
  // as the step rounds a corner: a union's re-entrant corner) add the plane of the way in beyond both (corner_plane),
  // a face two members share once. Faces numbered in the intersection.
  void entering_planes(const double* x0, const double* x1, const Diffusion& D, double dt,
                       std::vector<CrossingPlane>& out) const {
    const int d = dim();
    Scratch& s = Scratch::at_depth();  // kept between calls: near a union's corner every step asks for these
    const Scratch::Nest nest;
    s.open.resize(members_.size());
    for (auto& planes : s.open) planes.clear();
    std::size_t n_hidden = 0;  // s.hidden's first n_hidden are in use; the rest keep their vectors' storage
    Vector &y = s.y, &z = s.z;
    y.resize(d);
    const auto hide = [&](std::size_t j, const CrossingPlane& c) {
      if (n_hidden == s.hidden.size()) s.hidden.emplace_back();
      HiddenFace& f = s.hidden[n_hidden++];
      f.member = j;
      f.plane = c;
      f.point = y;
    };
    for (std::size_t j = 0; j < members_.size(); ++j) {
      const bool contains_end = members_[j]->contains(x0) || members_[j]->contains(x1);
      if (contains_end && !open_beyond_[j]) continue;  // no face of it leads in (a0 or a1 would be <= 0)
      s.planes.clear();
      members_[j]->outside_planes(x0, x1, D, dt, s.planes);
      for (const CrossingPlane& c : s.planes) {
        if (!(c.a0 > 0 && c.a1 > 0)) {
          if (c.a0 > 0 || c.a1 > 0) {  // a plane the step crosses: no way in alone, but perhaps with another's
            y = Eigen::Map<const Vector>(c.a1 > 0 ? x1 : x0, d);
            members_[j]->to_boundary(y.data(), c.face);
            hide(j, c);
          }
          continue;
        }
        const double theta = c.a0 / (c.a0 + c.a1);
        for (int i = 0; i < d; ++i) y[i] = x0[i] + theta * (x1[i] - x0[i]);
        const double at = largest_coordinate(y.data(), d);
        z = y;
        members_[j]->to_boundary(y.data(), c.face);
        // A face of a member containing an end of the step (a box's complement the step lies beyond) leads in
        // only where the chord's point lies over the face itself: its move onto the face is then the distance to
        // the plane, (1 - theta) a0 + theta a1, and not a slide along it.
        const double across = (1 - theta) * c.a0 + theta * c.a1;
        if (contains_end &&
            !((y - z).norm() <= across * (1 + 1e-9) + 1e-12 * std::max(at, members_[j]->scale(y.data()))))
          continue;
        if (within_others(y.data(), j, at)) {
          s.open[j].push_back(shifted(c, offsets_[j]));
        } else if (plane_probability(c) > 0) {  // else beyond both at once is negligible too: W lies beyond c
          hide(j, c);
        }
      }
    }
    for (std::size_t j = 0; j < members_.size(); ++j)  // a boundary two members share counts once
      for (const CrossingPlane& c : s.open[j])
        if (!dominated(s.open, j, c)) out.push_back(c);
    std::vector<HiddenFace>& hidden = s.hidden;
    // A plane two members share (coincident faces: overlapping tiles, a member given twice) is one face: its
    // corners count once.
    std::size_t kept = 0;
    for (std::size_t a = 0; a < n_hidden; ++a) {
      bool again = false;
      for (std::size_t b = 0; b < kept && !again; ++b) again = same_plane(hidden[a].plane, hidden[b].plane);
      if (!again) std::swap(hidden[kept++], hidden[a]);
    }
    n_hidden = kept;
    // each face's plane in the noise's metric once (faces without a normal, or without noise across, pair with none)
    kept = 0;
    for (std::size_t a = 0; a < n_hidden; ++a)
      if (in_noise_metric(x0, x1, D, hidden[a])) std::swap(hidden[kept++], hidden[a]);
    n_hidden = kept;
    CrossingPlane corner;
    for (std::size_t a = 0; a < n_hidden; ++a)
      for (std::size_t b = a + 1; b < n_hidden; ++b)
        if (corner_plane(x0, x1, dt, hidden[a], hidden[b], s.w, corner)) out.push_back(corner);
  }
  // A member's face that cannot lead in alone (entering_planes): its crossing point lies inside another member, or
  // the step crosses its plane.
  struct HiddenFace {
    std::size_t member;
    CrossingPlane plane;  // numbered within the member
    Vector point;         // a point of the face: the crossing point, or the step's end before the plane moved onto it
    // its plane in the noise's metric (in_noise_metric): the unit normal u facing away from the step, Sigma u,
    // sigma = sqrt(u^T Sigma u) and the offset u . point
    Vector u{}, sigma_u{};
    double sigma = 0, offset = 0;
  };
  // entering_planes' working storage, kept by each thread between calls, one set per depth of nesting (a member
  // that is itself an Intersection is entered through its own entering_planes, inside its parent's).
  struct Scratch {
    std::vector<std::vector<CrossingPlane>> open;  // per member: its faces that lead in alone
    std::vector<CrossingPlane> planes;             // one member's outside planes
    std::vector<HiddenFace> hidden;                // faces that cannot lead in alone
    Vector y, z, w;
    // This thread's set at the current depth; a Nest made after it holds that depth while it lives.
    static Scratch& at_depth() {
      std::vector<std::unique_ptr<Scratch>>& sets = pool();
      if (sets.size() <= depth()) sets.push_back(std::make_unique<Scratch>());
      return *sets[depth()];
    }
    struct Nest {
      Nest() { ++depth(); }
      ~Nest() { --depth(); }
      Nest(const Nest&) = delete;
      Nest& operator=(const Nest&) = delete;
    };

   private:
    static std::vector<std::unique_ptr<Scratch>>& pool() {
      thread_local std::vector<std::unique_ptr<Scratch>> sets;
      return sets;
    }
    static std::size_t& depth() {
      thread_local std::size_t d = 0;
      return d;
    }
  };
  // f's plane in the noise's metric; false where the member gives no normal there, or no noise crosses the plane.
  bool in_noise_metric(const double* x0, const double* x1, const Diffusion& D, HiddenFace& f) const {
    const int d = dim();
    f.u.resize(d);
    if (!members_[f.member]->normal(f.point.data(), f.plane.face, f.u.data())) return false;
    to_unit(f.u.data(), d);
    const Eigen::Map<const Vector> p0(x0, d), p1(x1, d);
    if (f.u.dot(2 * f.point - p0 - p1) < 0) f.u = -f.u;  // towards the face from the step's side
    if (D.isotropic)
      f.sigma_u = D.scalar * f.u;
    else
      f.sigma_u.noalias() = D.Sigma * f.u;
    f.sigma = std::sqrt(f.u.dot(f.sigma_u));
    f.offset = f.u.dot(f.point);
    return f.sigma > 0 && std::isfinite(f.sigma);
  }
  // Two faces that cannot lead in alone (each hidden inside another member, or crossed as the step rounds a corner),
  // as at a union's re-entrant corner: there the way in (out of the union) lies beyond both at once, W = {u_a . x >=
  // c_a} and {u_b . x >= c_b} (their planes at the faces' points, u facing away from the step), which neither face's
  // own test sees. W is a convex set entered from outside, tested as Intersection::nearest_plane tests one, but in the
  // noise's metric (where the bridge is isotropic; Euclidean distances with the variance along one normal overshot
  // under anisotropic noise): against the plane at W's nearest point to the step's end, with both ends' distances
  // from W. Only where that point lies in every member's closure (a corner of the set itself, not of two planes
  // beyond a member's edge), and not for parallel faces. The crossing is placed on both faces.
  bool corner_plane(const double* x0, const double* x1, double dt, const HiddenFace& A, const HiddenFace& B,
                    Vector& w, CrossingPlane& out) const {
    const int d = dim();
    const double na = A.sigma, nb = B.sigma, g = A.u.dot(B.sigma_u) / (na * nb);  // the normals' cosine there
    if (!(std::abs(g) < 1 - 1e-9)) return false;
    const Eigen::Map<const Vector> p0(x0, d), p1(x1, d);
    // the distances before each plane in noise units, and the steps along Sigma u_a / sigma_a, Sigma u_b / sigma_b
    // (unit steps in the noise's metric) to W's nearest point
    const Wedge end = wedge_distance((A.offset - A.u.dot(p1)) / na, (B.offset - B.u.dot(p1)) / nb, g);
    const double a1 = end.distance;
    const double a0 = wedge_distance((A.offset - A.u.dot(p0)) / na, (B.offset - B.u.dot(p0)) / nb, g).distance;
    if (!(a0 > 0 && a1 > 0) || !std::isfinite(a0) || !std::isfinite(a1)) return false;
    w = p1 + (end.alpha / na) * A.sigma_u + (end.beta / nb) * B.sigma_u;  // W's nearest point
    const double at = std::max(largest_coordinate(w.data(), d), largest_coordinate(x1, d));
    for (const auto& r : members_)
      if (r->signed_distance(w.data()) < -placement_tolerance(*r, w.data(), at)) return false;
    out = {a0, a1, dt, A.plane.face + offsets_[A.member], -1.0, false, B.plane.face + offsets_[B.member]};
    return true;
  }
  // A point's distance from W and the steps along the two normals to W's nearest point (wedge_distance).
  struct Wedge {
    double distance, alpha, beta;
  };
  // The distance, in a metric where the two planes' unit normals have cosine g, from a point at distances sa and sb
  // before them to W, the region beyond both; and the steps alpha, beta along the two normals to its nearest point:
  // none where the point is in W, one plane's where the step onto it ends beyond the other, else both.
  static Wedge wedge_distance(double sa, double sb, double g) {
    if (sa <= 0 && sb <= 0) return {0.0, 0.0, 0.0};
    if (sa > 0 && sb - g * sa <= 0) return {sa, sa, 0.0};  // onto plane a: b's distance falls by g sa
    if (sb > 0 && sa - g * sb <= 0) return {sb, 0.0, sb};
    const double det = 1 - g * g;
    const double alpha = std::max(0.0, (sa - g * sb) / det), beta = std::max(0.0, (sb - g * sa) / det);
    return {std::sqrt(std::max(0.0, alpha * alpha + beta * beta + 2 * g * alpha * beta)), alpha, beta};
  }
  // Whether a step whose ends lie outside the intersection cannot have entered it but with a negligible probability.
  // The chord stays at least h = (d0 + d1 - |x1 - x0|) / 2 from it (d0, d1 the ends' distances, bounded below by
  // -signed_distance), and a bridge strays h from its chord with probability at most 2 d exp(-2 h^2 / spread),
  // spread = d times the largest noise variance over the step. For a convex set, also where the chord misses it
  // (h > 0) and the nearest-plane test's exponent with those bounds and the largest variance, above the test's, is
  // below kNegligibleExponent. Spares the chords, planes and projections of lanes far from the set (most of them),
  // whose probability the full test puts below e^-30 too. s0: signed_distance(x0).
  bool negligible_entry(double s0, const double* x0, const double* x1, double spread) const {
    const double s1 = signed_distance(x1);
    double len2 = 0;
    for (int i = 0; i < dim(); ++i) len2 += (x1[i] - x0[i]) * (x1[i] - x0[i]);
    const double len = std::sqrt(len2), h = 0.5 * (-s0 - s1 - len);
    if (h > 0 && std::log(2.0 * dim()) - 2 * h * h / spread < kNegligibleExponent) return true;
    return convex_ && len < -s0 - s1 &&
           bridge_exponent(-s0, -s1, exponent_factor(spread / dim())) < kNegligibleExponent;
  }
  // Whether member j, excluding both ends of a step that lies inside every other member, is the only one whose faces
  // can lead into the set: no other member is the complement of a box or of a set of regions.
  bool alone(int j) const {
    for (std::size_t k = 0; k < members_.size(); ++k)
      if (static_cast<int>(k) != j && open_beyond_[k]) return false;
    return true;
  }
  // The member on whose boundary x lies, when x is on the intersection's (to 1e-9 of the larger of |x| and the
  // member's scale): the one nearest; else -1.
  int on_boundary_member(const double* x) const {
    double nearest = std::numeric_limits<double>::infinity();
    int best = -1;
    for (std::size_t j = 0; j < members_.size(); ++j) {
      const double s = members_[j]->signed_distance(x);
      if (std::abs(s) < nearest) {
        nearest = std::abs(s);
        best = static_cast<int>(j);
      }
    }
    return best >= 0 && nearest <= placement_tolerance(*members_[best], x, largest_coordinate(x, dim())) ? best : -1;
  }
  // The member through whose boundary the chord x0 -> x1 first enters the intersection (the one whose part of the
  // chord starts where the intersection's does), or -1 when the chord misses it.
  int chord_entry_member(const double* x0, const double* x1) const {
    std::vector<std::vector<Interval>> parts;
    std::vector<Interval> all;
    return chord_parts(x0, x1, all, &parts) ? entry_member(parts, all) : -1;
  }
  // The same from chord_parts' results.
  static int entry_member(const std::vector<std::vector<Interval>>& parts, const std::vector<Interval>& all) {
    if (all.empty()) return -1;
    const double entry = all.front().first;
    for (std::size_t j = 0; j < parts.size(); ++j)
      for (const Interval& v : parts[j])
        if (v.first == entry && entry > 0.0) return static_cast<int>(j);
    return -1;
  }
  // A convex set entered from outside is measured as a box is: against the tangent plane at its point nearest to
  // the step's end x1, with the Euclidean distances of both ends from the set (nearest, below), the
  // noise across that plane, on the face of the member that point lies on. Where the ends lie outside several
  // members (a corner), the members' own faces would lead in only where the chord's point lies over the set, which a
  // corner smaller than a step mostly misses: a quadrant given as two half-spaces was hit 12.7% too rarely at
  // dt = 0.1 (a Box: 1.8% too often). False where a nearest point cannot be found (an empty set, no convergence).
  bool nearest_plane(const double* x0, const double* x1, const Diffusion& D, double dt, CrossingPlane& out) const {
    const int d = dim();
    thread_local std::vector<double> points;  // y0, y1 and the normal: no allocation per step once grown
    points.resize(3 * static_cast<std::size_t>(d));
    double *y0 = points.data(), *y1 = y0 + d, *n = y1 + d;
    std::copy(x1, x1 + d, y1);
    if (!nearest_point(y1)) return false;
    double a1 = 0;
    for (int i = 0; i < d; ++i) {
      n[i] = x1[i] - y1[i];
      a1 += n[i] * n[i];
    }
    if (!(a1 > 0) || !std::isfinite(a1)) return false;
    a1 = std::sqrt(a1);
    to_unit(n, d);
    const double var = D.along(n, d) * dt;
    // x0's distance is at least -signed_distance: where that already puts the probability below e^-30, x0's
    // projection is spared (the plane's probability is 0 either way)
    const double bound = std::max(0.0, -signed_distance(x0));
    if (bridge_exponent(bound, a1, exponent_factor(var)) < kNegligibleExponent) {
      out = {bound, a1, var, 0, -1.0, true};
      return true;
    }
    std::copy(x0, x0 + d, y0);
    if (!nearest_point(y0)) return false;
    double a0 = 0;
    for (int i = 0; i < d; ++i) a0 += (x0[i] - y0[i]) * (x0[i] - y0[i]);
    out = {std::sqrt(a0), a1, var, exit_face(x1, x1, false), -1.0, true};  // the face x1 lies beyond
    return true;
  }
  // The nearest point of the (convex) set to x, in place (nearest_point). Where a curved leaf (a ball, an
  // ellipsoid) excludes x and its own nearest point lies in the set, that is the point, exactly. Otherwise the
  // polyhedral leaves' faces are constraints as they are, and each curved leaf that excludes the current point adds
  // the tangent half-space at its own nearest point to it, which contains the leaf, so that the nearest point of the
  // polyhedron of faces and tangents is never farther than the set's: its distance grows with each tangent until
  // every leaf holds the point to 1e-13 of its size (Kelley's cutting planes; tangents no longer active are dropped,
  // which keeps the point and its distance). Where several constraints meet, the point can lie about 1e-6 of the
  // leaf's size along a curved boundary from the exact one (a handful of tangents at an edge of two balls meeting at
  // 29 degrees, where Dykstra's alternating projections took over 100 sweeps). Where the tangents become too nearly
  // parallel for the projection, or after kMaxTangentRounds, the last point is taken if every leaf holds it to the
  // tolerance of a placed point.
  NearestInPolyhedron::Outcome nearest(double* x) const {
    using Outcome = NearestInPolyhedron::Outcome;
    const int d = dim(), faces = static_cast<int>(leaf_offsets_.size());
    // a tangent: (u, c), d + 1 numbers
    const std::size_t row = static_cast<std::size_t>(d) + 1;
    // one per thread: a leaf never projects through an Intersection (nested ones are flattened)
    thread_local NearestInPolyhedron qp;
    thread_local std::vector<double> work, tangents;
    work.resize(2 * static_cast<std::size_t>(d));
    double *p = work.data(), *y = p + d;
    const double at = largest_coordinate(x, d);
    // whether every leaf but `skip` holds z, to `tolerance` times the size of the rounding there (z's, the leaf's
    // and `from`, that of the numbers z was computed from)
    const auto holds = [&](const double* z, const Region* skip, double tolerance, double from) {
      const double size = std::max(from, largest_coordinate(z, d));
      for (int k = 0; k < faces; ++k)
        if (plain_dot(leaf_normals_.data() + static_cast<std::size_t>(k) * d, z, d) - leaf_offsets_[k] >
            tolerance * std::max(size, std::abs(leaf_offsets_[k])))
          return false;
      for (const Region* leaf : round_leaves_)
        if (leaf != skip && leaf->signed_distance(z) < -tolerance * std::max(size, leaf->scale(z))) return false;
      return true;
    };
    for (const Region* leaf : round_leaves_) {  // one curved leaf nearest: its own projection
      if (leaf->contains(x) || !std::isfinite(leaf->signed_distance(x))) continue;
      std::copy(x, x + d, p);
      leaf->project(p);  // to the rounding of p's and the leaf's size, whatever x's
      if (holds(p, leaf, 1e-13, 0.0)) {
        std::copy(p, p + d, x);
        return Outcome::found;
      }
    }
    tangents.clear();
    qp.reset(x, d);
    for (int k = 0; k < faces; ++k) qp.add(leaf_normals_.data() + static_cast<std::size_t>(k) * d, leaf_offsets_[k]);
    bool placed = false;  // y holds a point from an earlier round
    for (int round = 0; round < kMaxTangentRounds; ++round) {
      qp.truncate(faces);  // the faces stay; the tangents are this round's
      for (std::size_t t = 0; t < tangents.size(); t += row) qp.add(tangents.data() + t, tangents[t + row - 1]);
      const Outcome found = qp.solve(1e-13);
      if (found == Outcome::stalled && placed) break;  // the last round's point, if it holds to a placement's tolerance
      if (found != Outcome::found) return found;
      std::copy(qp.point(), qp.point() + d, y);
      placed = true;
      std::size_t kept = 0;
      for (std::size_t t = 0; t < tangents.size(); t += row)
        if (qp.active(faces + static_cast<int>(t / row))) {
          std::copy(tangents.begin() + static_cast<long>(t), tangents.begin() + static_cast<long>(t + row),
                    tangents.begin() + static_cast<long>(kept));
          kept += row;
        }
      tangents.resize(kept);
      bool held = true;
      const double size = std::max(at, largest_coordinate(y, d));
      for (const Region* leaf : round_leaves_) {
        if (leaf->signed_distance(y) >= -1e-13 * std::max(size, leaf->scale(y))) continue;
        held = false;
        std::copy(y, y + d, p);
        leaf->project(p);
        // the tangent plane at p: the leaf's own normal there, else the direction from p to y
        tangents.resize(kept + row);
        double* u = tangents.data() + kept;
        double along = 0;
        if (leaf->n_faces() == 1 && leaf->normal(p, 0, u)) {
          for (int i = 0; i < d; ++i) along += u[i] * (y[i] - p[i]);
          if (along < 0)
            for (int i = 0; i < d; ++i) u[i] = -u[i];
        } else {
          for (int i = 0; i < d; ++i) u[i] = y[i] - p[i];
        }
        const double length = std::sqrt(plain_squared_norm(u, d));
        if (!(length > 0) || !std::isfinite(length)) return Outcome::stalled;
        for (int i = 0; i < d; ++i) u[i] /= length;
        u[d] = plain_dot(u, p, d);
        kept += row;
      }
      if (held) break;
    }
    // to the tolerance of a placed point (placement_tolerance), or a few units in the last place of x, the size of
    // the rounding of the steps from x to y (from afar)
    if (!holds(y, nullptr, 1e-9, 1e-5 * at)) return Outcome::stalled;
    std::copy(y, y + d, x);
    return Outcome::found;
  }
  static constexpr int kMaxTangentRounds = 200;
  // Whether the convex set has no interior point, so that no path can enter it: members that only touch ({x < 0.5}
  // and {x > 0.5}, boxes sharing a face, tangent balls). In the space of (x, r), a ball's centre and
  // radius, the balls inside a polyhedral leaf u . x < c are u . x + r <= c, and those inside a curved leaf lie
  // behind its tangent plane at any boundary point p (outward normal n): n . x + r <= n . p, added as cuts at the
  // leaf's boundary point nearest the current centre wherever the current ball crosses it (Kelley's cutting planes,
  // as in nearest(), from outside: the cut polyhedron holds every ball the set holds). The point of that polyhedron
  // nearest (y, R), y a point of the set's closure, has r > 0 exactly where some ball of positive radius fits: (y, 0)
  // is in it, at distance R, and any point with r <= 0 is at least that far, while a step from (y, 0) towards a
  // positive radius comes nearer. So the interior is empty where r stays within the rounding of 0 (a few units in
  // the last place of the coordinates) and the centre at y (below); where the cuts do not settle, or the set's closure
  // cannot be found, the set is taken to have one (the test before).
  bool no_interior() const {
    using Outcome = NearestInPolyhedron::Outcome;
    const int d = dim(), faces = static_cast<int>(leaf_offsets_.size()), e = d + 1;
    // A ball or an ellipsoid in one dimension is an interval: its two ends are faces as a box's are.
    std::vector<std::pair<double, double>> ends;  // (normal, offset)
    for (const Region* leaf : round_leaves_) {
      if (leaf->n_faces() == 1) continue;
      double lo = 0, hi = 0;
      leaf->to_boundary(&lo, 0);
      leaf->to_boundary(&hi, 1);
      if (lo > hi) std::swap(lo, hi);
      ends.emplace_back(-1.0, -lo);
      ends.emplace_back(1.0, hi);
    }
    // a point of the closure; where none is found (members that do not meet, or faces too nearly parallel to tell:
    // a wedge 3e-8 radians wide reads empty from outside) the test before is kept
    Vector y = Vector::Zero(d);
    if (nearest(y.data()) != Outcome::found) return false;
    const double size = std::max({largest_coordinate(y.data(), d), scale(y.data()), 1e-300});
    Vector z(e), row(e), point(d), n(d);
    z << y, size;
    NearestInPolyhedron qp;
    qp.reset(z.data(), e);
    const double half = std::sqrt(0.5);  // (u, 1) / sqrt(2): unit normals in (x, r)
    const auto add = [&](const double* u, double c) {
      for (int i = 0; i < d; ++i) row[i] = half * u[i];
      row[d] = half;
      qp.add(row.data(), half * c);
    };
    for (int k = 0; k < faces; ++k) add(leaf_normals_.data() + static_cast<std::size_t>(k) * d, leaf_offsets_[k]);
    for (const auto& [u, c] : ends) add(&u, c);
    // to a few units in the last place: a set whose inscribed radius is that small against its distance from the
    // origin is no wider than the rounding of its coordinates
    constexpr double kRounding = 16 * std::numeric_limits<double>::epsilon();
    for (int round = 0; round < kMaxTangentRounds; ++round) {
      if (qp.solve(kRounding) != Outcome::found) return false;
      const double* xr = qp.point();
      const double r = xr[d], at = std::max(size, largest_coordinate(xr, d));
      bool held = true;
      for (const Region* leaf : round_leaves_) {
        if (leaf->n_faces() != 1) continue;  // an interval's ends: faces already
        std::copy(xr, xr + d, point.data());
        leaf->to_boundary(point.data(), 0);
        if (!leaf->normal(point.data(), 0, n.data())) return false;
        to_unit(n.data(), d);
        const double h = 1e-6 * std::max(at, leaf->scale(point.data()));
        const Vector out = point + h * n, in = point - h * n;
        if (leaf->signed_distance(out.data()) > leaf->signed_distance(in.data())) n = -n;  // outward: it falls there
        const double c = n.dot(point);
        if (plain_dot(n.data(), xr, d) + r - c <= kRounding * std::max(at, std::abs(c))) continue;
        held = false;
        add(n.data(), c);
      }
      if (!held) continue;
      // No ball fits, and the centre stays at y: the members' normals there cancel (opposite faces that touch),
      // which is no interior. A centre that moves with a radius that stays within rounding is a very thin set (a
      // wedge of faces 3e-8 radians apart, whose radius grows with the distance from its tip, r = t sin(angle / 2),
      // while the step towards it costs t^2): taken to have one.
      double moved = 0;
      for (int i = 0; i < d; ++i) moved = std::max(moved, std::abs(xr[i] - y[i]));
      return !(r > kRounding * at) && !(moved > kRounding * at);
    }
    return false;
  }
  // The leaves of a convex set of members (nested intersections opened): the polyhedral ones' faces as unit
  // normals and offsets, the others (balls, ellipsoids) as they are.
  void collect_leaves(const Region& r, std::vector<std::pair<Vector, double>>& faces) {
    if (const auto* set = dynamic_cast<const Intersection*>(&r)) {
      for (const auto& member : set->members_) collect_leaves(*member, faces);
    } else if (!r.half_spaces(faces)) {
      round_leaves_.push_back(&r);
    }
  }
  void build_leaves() {
    std::vector<std::pair<Vector, double>> faces;
    for (const auto& member : members_) collect_leaves(*member, faces);
    for (const auto& [u, c] : faces) {
      leaf_normals_.insert(leaf_normals_.end(), u.data(), u.data() + u.size());
      leaf_offsets_.push_back(c);
    }
  }
  // The one member both end points lie outside of, when they lie inside all the others; else -1.
  int sole_excluder(const double* x0, const double* x1) const {
    int found = -1;
    for (std::size_t j = 0; j < members_.size(); ++j) {
      const bool in0 = members_[j]->contains(x0), in1 = members_[j]->contains(x1);
      if (in0 && in1) continue;
      if (in0 || in1 || found >= 0) return -1;
      found = static_cast<int>(j);
    }
    return found;
  }
  std::vector<std::shared_ptr<const Region>> members_;
  std::vector<int> offsets_;
  bool polyhedral_ = true;  // every member polyhedral (convex_ too)
  bool reflects_ = false;
  std::vector<bool> open_beyond_;  // per member: Region::open_beyond
  bool convex_ = true;             // every member convex
  bool hollow_ = false;            // convex with no interior point (no_interior): never entered
  // for a convex set, its leaves (collect_leaves): the polyhedral ones' faces, u_k . x < c_k (u_k at
  // leaf_normals_[k d ...]), and the others
  std::vector<double> leaf_normals_, leaf_offsets_;
  std::vector<const Region*> round_leaves_;
};

}  // namespace escapade
