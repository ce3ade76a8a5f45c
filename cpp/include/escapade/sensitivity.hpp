// Likelihood-ratio (score-function) weights of a run's paths with respect to parameters of the path law.
//
// For dynamics whose step is Gaussian given the past, x_{n+1} = m_theta(x_n) + beta_theta B z_n (z_n standard
// normal, B fixed), the derivative of the log-likelihood of step n with respect to theta is
//   s_n = (d m / d theta)^T M z_n / beta  +  (d beta / d theta) / beta (|z_n|^2 - k),    M = pinv(B^T),
// so that d E[F] / d theta = E[F S] with S = sum_n s_n for any statistic F of the path (and of draws whose law
// does not depend on theta: the bridge test's uniforms, minibatch indices). Each parameter is given by three
// coefficients, whatever the dynamics (the caller works them out):
//   s_n = c_grad (g_n^T M z_n) + c_noise (|z_n|^2 - k) + c_pair ((x+_{n+1} - x-_{n+1})^T M z_n)
// where g_n is the gradient the dynamics left in its scratch (StepOutput::g) at x_n, and x+-_{n+1} are the steps
// from x_n with the same draws of the dynamics and landscape at theta +- h (c_pair = 1 / (2 h beta)): the same
// noise cancels, leaving a central difference of the deterministic part of the step, which is smooth in theta.
// Each lane carries S = sum_n s_n and Q = sum_n (N - n) s_n (S added to Q after each step: two additions, no
// step count), and the run reports S and R = sum_n t_n s_n = t_N S - dt Q (t_n = n dt the time at the start of
// step n, N the path's steps), so that the cost-to-go form of a time sum_n (tau - t_n) s_n is tau S - R.
#pragma once

#include <cstdint>
#include <vector>

#include "escapade/dynamics.hpp"
#include "escapade/landscape.hpp"
#include "escapade/types.hpp"
#include "escapade/validate.hpp"

namespace escapade {

struct SensitivityParam {
  double c_grad = 0.0;
  double c_noise = 0.0;
  double c_pair = 0.0;
  // The step at theta + h and theta - h (c_pair != 0): a dynamics and a landscape each (null: the run's own).
  const Dynamics* dyn_plus = nullptr;
  const Landscape* land_plus = nullptr;
  const Dynamics* dyn_minus = nullptr;
  const Landscape* land_minus = nullptr;
};

struct Sensitivities {
  std::vector<SensitivityParam> params;
  Matrix M;  // d x k, pinv(B^T); empty: the identity (k = d)

  int size() const { return static_cast<int>(params.size()); }
  bool any_pair() const {
    for (const auto& p : params)
      if (p.c_pair != 0.0) return true;
    return false;
  }
  bool any_noise() const {
    for (const auto& p : params)
      if (p.c_noise != 0.0) return true;
    return false;
  }
  bool any_grad() const {
    for (const auto& p : params)
      if (p.c_grad != 0.0) return true;
    return false;
  }

  void validate(const Landscape& f, const Dynamics& dyn) const {
    const int d = f.dim(), k = dyn.noise_dim_on(f);
    require(k > 0, "sensitivities", "a dynamics without Gaussian noise (" + dyn.name() + ")",
            "a dynamics that draws Gaussian noise");
    require(dyn.time_index(d) < 0, "sensitivities", dyn.name() + " with adaptive steps", "a fixed-step dynamics");
    if (M.size() > 0)
      require(M.rows() == d && M.cols() == k, "sensitivity matrix",
              std::to_string(M.rows()) + " x " + std::to_string(M.cols()),
              std::to_string(d) + " x " + std::to_string(k) + " (dimension x noise dimension)");
    else
      require(k == d, "sensitivity matrix", "omitted", "given when the noise dimension differs from the dimension");
    for (const auto& p : params) {
      if (p.c_pair == 0.0) continue;
      for (const Dynamics* side : {p.dyn_plus, p.dyn_minus}) {
        const Dynamics& s = side ? *side : dyn;
        require(s.state_dim(d) == dyn.state_dim(d) && s.noise_dim_on(f) == k && s.uniform_dim(d) == dyn.uniform_dim(d),
                "sensitivities", "a perturbed " + s.name() + " with other state or noise sizes",
                "the run's state and noise sizes");
      }
      for (const Landscape* side : {p.land_plus, p.land_minus})
        if (side) require(side->dim() == d, "sensitivities", "a perturbed landscape of another dimension", "d");
    }
  }
};

}  // namespace escapade
