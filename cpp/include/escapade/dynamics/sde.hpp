// The general overdamped SDE, Euler-Maruyama in the Ito convention:
//   dX = [b(X, t) + w(t)] dt + eps S(X) dW          x' = x + dt (b(x, t) + w(t)) + eps sqrt(dt) S(x) z
// with t = step * dt, the step's start, and
//   b = -grad f                         for a landscape f, or the field of a DriftField (drift.hpp);
//   w                                   a Forcing (forcing.hpp), the same objects the constrained flow takes;
//   eps S                               sqrt(2 T) I (isotropic), a fixed d x k matrix, or a DiffusionField S(x).
// With a DiffusionField and ito_correction, the drift is instead the one whose stationary law is exp(-f / T),
// T = eps^2 / 2, for the diffusion D(x) = T M(x), M = S S^T:
//   b = -M(x) grad f(x) + T div M(x),  (div M)_i = sum_j d_j M_ij,
// the divergence by central differences of M (step 1e-5 max(1, |x_j|), one factor call per coordinate and
// side). The engine's Brownian-bridge test stays on with the state-dependent factor: each lane's covariance
// eps^2 S S^T is frozen at the step's start (kept in the lane's state, lane_diffusion), which keeps the test's
// O(dt) error for a smooth S (the bridge is exact only for constant S).
// Langevin (dynamics/langevin.hpp) is the gradient, autonomous, constant-noise case, and stays the one used
// then: its bits and speed do not depend on this class.
#pragma once

#include <cmath>
#include <memory>
#include <vector>

#include "escapade/drift.hpp"
#include "escapade/dynamics.hpp"
#include "escapade/forcing.hpp"
#include "escapade/perturbations/gradient_noise.hpp"
#include "escapade/validate.hpp"

namespace escapade {

class SDE final : public Dynamics {
 public:
  enum class Noise { Isotropic, Fixed, Field };

  // Isotropic noise at temperature T.
  SDE(std::shared_ptr<const Forcing> forcing, double temperature, double dt)
      : w_(std::move(forcing)), mode_(Noise::Isotropic), dt_(dt) {
    check_dt();
    require(std::isfinite(temperature) && temperature >= 0, "temperature", temperature, "finite and >= 0");
    scale_ = std::sqrt(2.0 * temperature * dt);
    diffusion_.isotropic = true;
    diffusion_.scalar = 2.0 * temperature;
  }
  // eps S dW with a fixed d x k matrix S.
  SDE(std::shared_ptr<const Forcing> forcing, Matrix S, double eps, double dt)
      : w_(std::move(forcing)), mode_(Noise::Fixed), dt_(dt), B_(std::move(S)) {
    check_dt();
    diffusion_ = fixed_diffusion(B_, eps);
    scale_ = std::sqrt(dt);
    noise_ = GradientNoise(B_, "S");
  }
  // eps S(X) dW with a state-dependent factor.
  SDE(std::shared_ptr<const Forcing> forcing, std::shared_ptr<const DiffusionField> S, double eps, bool ito_correction,
      double dt)
      : w_(std::move(forcing)), S_(std::move(S)), mode_(Noise::Field), dt_(dt), eps_(eps), ito_(ito_correction) {
    check_dt();
    require(S_ != nullptr, "S", "missing", "a diffusion factor");
    require(std::isfinite(eps) && eps >= 0, "eps", eps, "finite and >= 0");
    require(std::isfinite(eps * eps), "eps", eps, "below 1e154 (eps^2 / 2 is the temperature)");
    scale_ = std::sqrt(dt) * eps;
    diffusion_.isotropic = true;  // unused: the bridge reads each lane's covariance (step_diffusion)
  }

  std::string name() const override { return "Langevin"; }
  double dt() const override { return dt_; }
  bool continuous_time() const override { return true; }
  const Diffusion& diffusion() const override { return diffusion_; }
  bool bridge_test() const override { return mode_ != Noise::Field; }
  bool lane_diffusion() const override { return mode_ == Noise::Field; }
  void step_diffusion(const double* state, int d, Diffusion& D) const override {
    if (d == 1) {  // a scalar: no noise frame to build
      D.isotropic = true;
      D.scalar = state[0];
      return;
    }
    D.isotropic = false;
    D.Sigma = Eigen::Map<const Matrix>(state, d, d);
  }
  const Forcing* forcing() const { return w_.get(); }

  void check_dim(int d) const override {
    if (w_)
      require(w_->dim() == d, "forcing", w_->name() + " of dimension " + std::to_string(w_->dim()),
              "of the landscape's dimension " + std::to_string(d));
    if (mode_ == Noise::Fixed)
      require(B_.rows() == d, "S", std::to_string(B_.rows()) + " rows",
              "a matrix with " + std::to_string(d) + " rows (the landscape's dimension)");
    if (mode_ == Noise::Field && S_->dim() > 0)
      require(S_->dim() == d, "S", S_->name() + " of dimension " + std::to_string(S_->dim()),
              "of the landscape's dimension " + std::to_string(d));
  }
  void check_landscape(const Landscape& f) const override {
    if (ito_)
      require(dynamic_cast<const DriftField*>(&f) == nullptr, "ito_correction", "True with the drift " + f.name(),
              "False unless the problem is a landscape f (the stationary law exp(-f / T) needs one)");
  }
  int noise_dim(int d) const override {
    switch (mode_) {
      case Noise::Isotropic: return d;
      case Noise::Fixed: return static_cast<int>(B_.cols());
      case Noise::Field: return S_->noise_dim(d);
    }
    return d;
  }
  int state_dim(int d) const override { return mode_ == Noise::Field ? d * d : 0; }
  void init_state(const double*, double* s, int d) const override {
    for (int i = 0; i < state_dim(d); ++i) s[i] = 0.0;
  }

  // b(x, t) + w(t) at `width` points and times (b: d x width).
  void drift(const Landscape& f, const double* x, const double* t, const std::uint64_t* path, std::uint64_t seed,
             int width, double* b) const {
    const int d = f.dim();
    const long n = static_cast<long>(d) * width;
    if (const auto* field = dynamic_cast<const DriftField*>(&f)) {
      field->field(x, t, b, width);
    } else {
      f.gradient(x, b, width);
      for (long i = 0; i < n; ++i) b[i] = -b[i];
    }
    if (!w_) return;
    double* w = scratch(0, n);
    w_->eval_lanes(t, seed, path, width, w);
    for (long i = 0; i < n; ++i) b[i] += w[i];
  }

  void advance(const Landscape& f, const StepInput& in, const StepOutput& out) const override {
    const int d = f.dim(), width = in.width;
    const long n = static_cast<long>(d) * width;
    double* t = scratch(1, width);
    for (int l = 0; l < width; ++l) t[l] = static_cast<double>(in.step[l]) * dt_;
    double* b = out.g;  // the engine's gradient scratch holds the drift
    double* x_next = out.x;
    const double* x = in.x;
    if (mode_ != Noise::Field) {
      drift(f, x, t, in.path, in.seed, width, b);
      if (mode_ == Noise::Isotropic) {
        const double dt = dt_, scale = scale_;
        for (long i = 0; i < n; ++i) x_next[i] = (x[i] + dt * b[i]) + scale * in.z[i];
        return;
      }
      noise_.apply(f, x, b, in.z, width, x_next);
      for (long i = 0; i < n; ++i) x_next[i] = (x[i] + dt_ * b[i]) + scale_ * x_next[i];
      return;
    }
    const int k = S_->noise_dim(d);
    const long nS = static_cast<long>(d) * k * width;
    double* S = scratch(2, nS);
    S_->factor(x, S, d, width);
    if (!ito_) {
      drift(f, x, t, in.path, in.seed, width, b);
    } else {
      // b = -M grad f + T div M (+ w), M = S S^T at x.
      f.gradient(x, b, width);
      double* div = scratch(3, n);
      divergence(x, width, d, k, div);
      const double T = 0.5 * eps_ * eps_;
      std::vector<double> mg(static_cast<std::size_t>(d));
      for (int l = 0; l < width; ++l) {
        const double* Sl = S + static_cast<long>(l) * d * k;
        double* bl = b + static_cast<long>(l) * d;
        for (int i = 0; i < d; ++i) {
          double s = 0.0;
          for (int j = 0; j < d; ++j) s += m_entry(Sl, i, j, k) * bl[j];
          mg[static_cast<std::size_t>(i)] = s;
        }
        for (int i = 0; i < d; ++i) bl[i] = -mg[static_cast<std::size_t>(i)] + T * div[static_cast<long>(l) * d + i];
      }
      if (w_) {
        double* w = scratch(0, n);
        w_->eval_lanes(t, in.seed, in.path, width, w);
        for (long i = 0; i < n; ++i) b[i] += w[i];
      }
    }
    for (int l = 0; l < width; ++l) {
      const double* Sl = S + static_cast<long>(l) * d * k;
      const double* zl = in.z + static_cast<long>(l) * k;
      const double* xl = x + static_cast<long>(l) * d;
      const double* bl = b + static_cast<long>(l) * d;
      double* xn = x_next + static_cast<long>(l) * d;
      for (int i = 0; i < d; ++i) {
        double s = 0.0;
        for (int j = 0; j < k; ++j) s += Sl[static_cast<long>(i) * k + j] * zl[j];
        xn[i] = (xl[i] + dt_ * bl[i]) + scale_ * s;
      }
      // The bridge's covariance per unit time, eps^2 S S^T at the step's start.
      double* Sigma = out.state + static_cast<long>(l) * d * d;
      const double e2 = eps_ * eps_;
      for (int j = 0; j < d; ++j)
        for (int i = 0; i < d; ++i) Sigma[static_cast<long>(j) * d + i] = e2 * m_entry(Sl, i, j, k);
    }
  }

 private:
  void check_dt() const { require(std::isfinite(dt_) && dt_ > 0, "dt", dt_, "a positive finite number"); }

  // (S S^T)_ij for one point's S (d x k, row-major).
  static double m_entry(const double* S, int i, int j, int k) {
    double s = 0.0;
    for (int c = 0; c < k; ++c) s += S[static_cast<long>(i) * k + c] * S[static_cast<long>(j) * k + c];
    return s;
  }

  // (div M)_i = sum_j d_j M_ij by central differences, per lane.
  void divergence(const double* x, int width, int d, int k, double* div) const {
    const long n = static_cast<long>(d) * width;
    double* xs = scratch(4, n);
    double* h = scratch(5, width);
    std::vector<double> Sp(static_cast<std::size_t>(d) * k * width), Sm(Sp.size());
    for (long i = 0; i < n; ++i) div[i] = 0.0;
    for (int j = 0; j < d; ++j) {
      for (int l = 0; l < width; ++l) h[l] = 1e-5 * std::max(1.0, std::abs(x[static_cast<long>(l) * d + j]));
      for (long i = 0; i < n; ++i) xs[i] = x[i];
      for (int l = 0; l < width; ++l) xs[static_cast<long>(l) * d + j] = x[static_cast<long>(l) * d + j] + h[l];
      S_->factor(xs, Sp.data(), d, width);
      for (int l = 0; l < width; ++l) xs[static_cast<long>(l) * d + j] = x[static_cast<long>(l) * d + j] - h[l];
      S_->factor(xs, Sm.data(), d, width);
      for (int l = 0; l < width; ++l) {
        const double* p = Sp.data() + static_cast<long>(l) * d * k;
        const double* m = Sm.data() + static_cast<long>(l) * d * k;
        for (int i = 0; i < d; ++i)
          div[static_cast<long>(l) * d + i] += (m_entry(p, i, j, k) - m_entry(m, i, j, k)) / (2.0 * h[l]);
      }
    }
  }

  // Per-thread scratch (the engine's block loop must not allocate per step); `slot` separates buffers in use
  // at the same time.
  static double* scratch(int slot, long size) {
    thread_local std::vector<double> bufs[6];
    auto& buf = bufs[slot];
    if (buf.size() < static_cast<std::size_t>(size)) buf.resize(static_cast<std::size_t>(size));
    return buf.data();
  }

  std::shared_ptr<const Forcing> w_;
  std::shared_ptr<const DiffusionField> S_;
  Noise mode_;
  double dt_;
  Matrix B_;  // eps * S (Fixed)
  double eps_ = 0.0;
  bool ito_ = false;
  double scale_ = 0.0;
  Diffusion diffusion_;
  GradientNoise noise_;
};

}  // namespace escapade
