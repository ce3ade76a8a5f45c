// The step of the dynamics driven by symmetric alpha-stable noise (perturbations/stable.hpp): a discrete map
// (StableSGD, stable_sgd.hpp) and an Euler scheme for a Levy-driven SDE (LevyLangevin, levy_langevin.hpp). Each
// coordinate of a step's noise takes two of the lane's uniforms (uniform_dim = 2 d) from its counter-based stream,
// so paths are bitwise reproducible for any thread count and block size. Jump noise has no Brownian bridge: the
// crossing test between steps is off (bridge_test() is false).
#pragma once

#include "escapade/dynamics.hpp"
#include "escapade/perturbations/stable.hpp"

namespace escapade {

// x' = x - h_l grad f(x) + scale S for every lane l, S with independent S_alpha(1, 0, 0) coordinates drawn from
// the lane's 2 d uniforms.
template <class StepSize>
void stable_step(const SymmetricStable& S, const Landscape& f, const StepInput& in, const StepOutput& out,
                 StableScale scale, StepSize step_size) {
  const int d = f.dim(), width = in.width;
  const double* x = in.x;
  double *g = out.g, *x_next = out.x;
  f.gradient(x, g, width);
  for (int l = 0; l < width; ++l) {
    const long o = static_cast<long>(l) * d;
    S.fill(in.u + 2 * o, d, scale, x_next + o);
    const double h = step_size(l);
    for (int i = 0; i < d; ++i) x_next[o + i] = (x[o + i] - h * g[o + i]) + x_next[o + i];
  }
}

}  // namespace escapade
