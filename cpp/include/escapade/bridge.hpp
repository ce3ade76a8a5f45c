// The Brownian bridge between two steps, refined where two events are both likely: what `simulate` (engine.hpp,
// refine_double_crossings: leaving stop or entering the target) and `splitting` (splitting.hpp: entering A or B)
// share.
//
// The bridge test of one step gives each event's crossing probability but not which came first; drawing the two as
// independent errs where the boundaries are not at a right angle in the noise's metric (a 1-D gap narrower than a few
// steps' spread is the extreme case). A step where both are likely is refined instead: the bridge's midpoint is drawn
// from its law, then each half is tested in turn, the same way, until one event is unlikely: every part down to
// 2^-kRefineShallow of the step, and deeper, down to 2^-kRefineLevels, within the step's refine_budget of further
// halvings and while the part's spread stays well above the coordinates' rounding (above_rounding). The first part with
// an event decides. Near a corner both events stay likely down to parts whose spread is about the distance to it, so
// the depth is what bounds the error of the part decided whole (8 levels left 0.523 for the exact 0.7 in a 45-degree
// wedge from 0.01 off its corner at dt = 0.05, where 60 give 0.700); the budget bounds the work where many parts stay
// likely (a gap far narrower than a part's spread, the tip of a thin target wedge), at about twice the most that 8
// levels could take.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "escapade/jacobi.hpp"
#include "escapade/perturbation.hpp"
#include "escapade/rng.hpp"
#include "escapade/types.hpp"

namespace escapade::detail {

inline constexpr double kBothLikely = 1e-3;   // refine a part where both crossing probabilities exceed this
inline constexpr int kRefineLevels = 60;      // parts down to 2^-60 of a step
inline constexpr int kRefineShallow = 8;      // every part may be halved this often (semantics 20-22's depth)
inline constexpr int kRefineHalvings = 256;   // at most this many halvings of one step beyond kRefineShallow
inline constexpr double kRefineFloor = 1e-5;  // and those only while a part's spread exceeds this of |x|

// What bounds one step's halvings (refine_budget).
struct RefineBudget {
  int halvings;      // how many more it may take beyond kRefineShallow
  int total;         // how many more of any depth its WordStream has words for
  double noisiest;   // the noise's largest variance rate in one coordinate (above_rounding's)
};

// The budget of one step in d dimensions under the noise D: kRefineHalvings beyond kRefineShallow, fewer where the
// draws of those and of the shallow ones (2^kRefineShallow - 1 at most; a halving's midpoint takes d + 1 words, each
// part decided whole at most 5 more) would run past one WordStream's kStreamWords; from d = 1022 on, where the
// shallow ones alone could, those too.
inline RefineBudget refine_budget(int d, const Diffusion& D) {
  const long total = (kStreamWords - 64) / (long{d} + 6);
  const long deep = total - ((1L << kRefineShallow) - 1);
  double noisiest = 0;
  for (int i = 0; i < d; ++i) noisiest = std::max(noisiest, D.component(i));
  return {static_cast<int>(std::clamp<long>(deep, 0, kRefineHalvings)), static_cast<int>(total), noisiest};
}

// Whether a part from a to b over h may be halved beyond kRefineShallow: its spread (the bridge's over h, in its
// noisiest coordinate) above kRefineFloor of the ends' largest coordinate. The 1e-9 tolerances that tell one boundary
// given twice (parallel_planes, merge_parallel_faces: a Ball's end and a Box's face, a normal given scaled) are
// relative to the distances, which near the boundary are about the part's spread; the coordinates' rounding (a few
// 2^-52 of |x|) must stay well inside them, or a path is HIT through a face that stop and the target share (2,636 of
// 50,000 paths at |x| = 1e4 without this floor).
inline bool above_rounding(const double* a, const double* b, double h, int d, const RefineBudget& budget) {
  double size = 0;
  for (int i = 0; i < d; ++i) size = std::max({size, std::abs(a[i]), std::abs(b[i])});
  return budget.noisiest * h > (kRefineFloor * size) * (kRefineFloor * size);
}

// root R with R R^T = Sigma: the Cholesky factor, or for a Sigma that is only semi-definite V sqrt(Lambda) from its
// eigendecomposition; in plain loops (jacobi.hpp), the same bits at every instruction set. False where it is not
// finite.
inline bool covariance_root(const Matrix& Sigma, Matrix& root) {
  const int d = static_cast<int>(Sigma.rows());
  const Matrix a = 0.5 * Sigma + 0.5 * Sigma.transpose();  // halves first: no overflow near the largest double
  root.resize(d, d);
  if (!plain_cholesky(a.data(), root.data(), d)) {
    Matrix v(d, d);
    Vector lam(d);
    ql_eigen(a.data(), v.data(), lam.data(), d);
    for (int j = 0; j < d; ++j) {
      const double s = std::sqrt(std::max(lam[j], 0.0));
      for (int i = 0; i < d; ++i) root(i, j) = v(i, j) * s;
    }
  }
  return root.allFinite();
}

// m = a draw of the bridge from a to b over time h at its middle: (a + b) / 2 + R w sqrt(h / 4), R R^T = Sigma
// (R null for isotropic noise; an anisotropic Sigma without a finite root adds no spread), w the d standard
// normals drawn from ws into `normals`.
inline void bridge_midpoint(const double* a, const double* b, double h, const Diffusion& D, const Matrix* R,
                            WordStream& ws, double* normals, double* m, int d) {
  for (int i = 0; i < d; ++i) normals[i] = ws.normal();
  const double root = std::sqrt(0.25 * h);
  for (int i = 0; i < d; ++i) {
    double v = 0;
    if (D.isotropic) {
      v = std::sqrt(D.scalar) * normals[i];
    } else if (R) {
      for (int j = 0; j < d; ++j) v += (*R)(i, j) * normals[j];
    }
    m[i] = 0.5 * a[i] + 0.5 * b[i] + root * v;
  }
}

inline bool both_likely(const double* p) { return p[0] > kBothLikely && p[1] > kBothLikely; }

// The bridge from a to b over time h (starting t into the step, at refinement level `level`), refined: test(a, b,
// h, p) gives the two events' crossing probabilities on a part (p[0], p[1]; 1 for an end beyond the boundary) and
// whether to halve it (both_likely(p), or where one region's own test is poor), and leaf(a, b, h, t, p) decides a
// part that is not halved further (0: no event, else the event). Midpoints go to `mid` (d numbers per level,
// kRefineLevels of them), their normals to `normals` (d numbers). The first half is tested before the second, so
// the first part with an event decides.
template <class Test, class Leaf>
int refine_bridge(const double* a, const double* b, double h, double t, int level, RefineBudget& budget, int d,
                  const Diffusion& D, const Matrix* R, WordStream& ws, double* mid, double* normals, Test& test,
                  Leaf& leaf) {
  double p[2];
  const bool halve = test(a, b, h, p);
  const bool deep = level >= kRefineShallow;
  if (level < kRefineLevels && halve && budget.total > 0 &&
      (!deep || (budget.halvings > 0 && above_rounding(a, b, h, d, budget)))) {
    --budget.total;
    if (deep) --budget.halvings;
    double* m = mid + static_cast<std::ptrdiff_t>(level) * d;
    bridge_midpoint(a, b, h, D, R, ws, normals, m, d);
    const int first = refine_bridge(a, m, 0.5 * h, t, level + 1, budget, d, D, R, ws, mid, normals, test, leaf);
    return first != 0 ? first
                      : refine_bridge(m, b, 0.5 * h, t + 0.5 * h, level + 1, budget, d, D, R, ws, mid, normals,
                                      test, leaf);
  }
  return leaf(a, b, h, t, p);
}

}  // namespace escapade::detail
