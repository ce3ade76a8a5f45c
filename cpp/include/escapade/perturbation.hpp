// Perturbations: the noise models that drive the dynamics, apart from the steps that use them.
//   Diffusion        (here) the covariance rate Sigma = B B^T of constant Gaussian noise per unit time, which a
//                    dynamics reports and the engine's Brownian-bridge crossing test reads (region.hpp);
//   GradientNoise    (perturbations/gradient_noise.hpp) a factor R(x) of a Gaussian covariance C(x) = R R^T:
//                    fixed, the PSD square root of the Hessian, or a finite sum's empirical gradient covariance;
//   SymmetricStable  (perturbations/stable.hpp) symmetric alpha-stable numbers from uniforms (heavy-tailed jumps).
// The normals and uniforms they transform come from the engine's counter-based generator (rng.hpp), one stream
// per lane; a perturbation reads only its lane's numbers (and point), never its thread or block.
#pragma once

#include "escapade/types.hpp"

namespace escapade {

// Covariance rate of the driving noise per unit time, Sigma = B B^T, for the Brownian-bridge crossing test.
struct Diffusion {
  bool isotropic = true;
  double scalar = 0.0;  // Sigma = scalar * I when isotropic
  Matrix Sigma;         // otherwise
  // n^T Sigma n for a unit vector n of length d.
  double along(const double* n, int d) const {
    if (isotropic) return scalar;
    double v = 0;
    for (int j = 0; j < d; ++j) {
      double s = 0;
      for (int i = 0; i < d; ++i) s += Sigma(i, j) * n[i];
      v += s * n[j];
    }
    return v;
  }
  double component(int i) const { return isotropic ? scalar : Sigma(i, i); }
};

}  // namespace escapade
