// The (projected, forced) gradient flow x' = U_alpha(x) + w(t) of 000 eq. (7), integrated by
//   Euler     Euler-Maruyama with optional additive noise: x' = x + h (U(x) + w(t)) + sigma sqrt(h) z
//   RK4       classical fourth-order Runge-Kutta, fixed step, w evaluated at the stage times t, t + h/2, t + h
//   DP54      Dormand-Prince 5(4), adaptive step per lane, with Hairer's 4th-order dense output; six drift
//             evaluations per attempted step after a path's first (first same as last)
// Without a constraint U = -grad f. The fixed-step methods count time as step * dt. DP54 keeps each lane's time
// and next step size in its state (lanes advance asynchronously: one engine step is one attempted step, accepted
// or rejected), never steps past the run's time cap, and lets the engine locate events on its dense output.
// RK4 and Euler without noise have dense output too (the engine locates their events to 1e-12 dt): RK4 the
// cubic Hermite interpolant through x0, x1 and the vector field at both ends (fourth order, like the method),
// evaluated only for the lanes whose path ended in the step; Euler the straight line from x0 to x1, its
// natural continuous extension. Euler-Maruyama (noise > 0) has none: its exits are the bridge test's.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "escapade/constraint.hpp"
#include "escapade/dynamics.hpp"
#include "escapade/forcing.hpp"
#include "escapade/validate.hpp"

namespace escapade {

class ConstrainedFlow final : public Dynamics {
 public:
  enum class Method { Euler = 0, RK4 = 1, DP54 = 2 };

  ConstrainedFlow(std::shared_ptr<const Constraint> constraint, double alpha, std::shared_ptr<const Forcing> forcing,
                  Method method, double dt, double noise, double rtol, double atol, double singular_tol,
                  double event_tol, double max_step)
      : c_(std::move(constraint)),
        w_(std::move(forcing)),
        method_(method),
        alpha_(alpha),
        dt_(dt),
        sigma_(noise),
        rtol_(rtol),
        atol_(atol),
        stol_(singular_tol),
        etol_(event_tol),
        hmax_(max_step) {
    require(std::isfinite(alpha) && alpha >= 0, "alpha", alpha, "finite and >= 0");
    require(std::isfinite(dt) && dt > 0, "dt", dt, "a positive finite number");
    require(std::isfinite(noise) && noise >= 0, "noise", noise, "finite and >= 0");
    require(noise == 0 || method == Method::Euler, "noise", noise, "0 unless method is Euler (Euler-Maruyama)");
    require(std::isfinite(rtol) && rtol > 0, "rtol", rtol, "a positive finite number");
    require(std::isfinite(atol) && atol >= 0, "atol", atol, "finite and >= 0");
    require(std::isfinite(singular_tol) && singular_tol > 0 && singular_tol < 1, "singular_tol", singular_tol,
            "in (0, 1)");
    require(std::isfinite(event_tol) && event_tol > 0, "event_tol", event_tol, "a positive finite number");
    require(max_step > 0, "max_step", max_step, "positive");
    if (c_ && w_)
      require(c_->dim() == w_->dim(), "forcing", "of dimension " + std::to_string(w_->dim()),
              "of the constraint's dimension " + std::to_string(c_->dim()));
    diffusion_.isotropic = true;
    diffusion_.scalar = sigma_ * sigma_;
  }

  std::string name() const override { return "ConstrainedFlow"; }
  double dt() const override { return dt_; }
  bool continuous_time() const override { return sigma_ > 0; }
  const Diffusion& diffusion() const override { return diffusion_; }
  void check_dim(int d) const override {
    if (c_)
      require(c_->dim() == d, "constraint", c_->name() + " of dimension " + std::to_string(c_->dim()),
              "of the landscape's dimension " + std::to_string(d));
    if (w_)
      require(w_->dim() == d, "forcing", w_->name() + " of dimension " + std::to_string(w_->dim()),
              "of the landscape's dimension " + std::to_string(d));
  }
  int noise_dim(int d) const override { return sigma_ > 0 ? d : 0; }

  // DP54 state: t, next step, start and length of the last accepted step, 3 d dense-output coefficients, then
  // whether the drift at (t, x) is known and that drift (d values): the first stage of the next attempt, which is
  // the last stage of an accepted step (first same as last) and the first stage again after a rejection.
  int state_dim(int d) const override { return method_ == Method::DP54 ? 5 + 4 * d : 0; }
  void init_state(const double*, double* s, int d) const override {
    s[0] = 0.0;
    s[1] = std::min(dt_, hmax_);
    for (int i = 2; i < 5 + 4 * d; ++i) s[i] = 0.0;
  }
  int time_index(int) const override { return method_ == Method::DP54 ? 0 : -1; }
  bool has_dense_output() const override { return method_ != Method::Euler || sigma_ == 0; }
  double event_tolerance() const override { return method_ == Method::DP54 ? etol_ : 1e-12 * dt_; }
  double last_step_start(const double* s, int) const override { return s[2]; }
  double last_step_length(const double* s, int) const override { return s[3]; }
  void dense_output(const double* x0, const double* x1, const double* s, const double* work, double theta,
                    double* x, int d) const override {
    const double th1 = 1.0 - theta;
    switch (method_) {
      case Method::Euler:
        for (int i = 0; i < d; ++i) x[i] = th1 * x0[i] + theta * x1[i];
        return;
      case Method::RK4: {
        // Cubic Hermite: x(theta) = (1 - theta) x0 + theta x1
        //                           - theta (1 - theta) ((1 - 2 theta) (x1 - x0) - (1 - theta) h f0 + theta h f1)
        const double *hf0 = work, *hf1 = work + d;
        for (int i = 0; i < d; ++i)
          x[i] = (th1 * x0[i] + theta * x1[i]) -
                 theta * th1 * ((1.0 - 2.0 * theta) * (x1[i] - x0[i]) - th1 * hf0[i] + theta * hf1[i]);
        return;
      }
      case Method::DP54: {
        // Hairer's contd5: x(theta) = x0 + theta (dx + (1 - theta) (r3 + theta (r4 + (1 - theta) r5))).
        const double* r3 = s + 4;
        const double *r4 = r3 + d, *r5 = r4 + d;
        for (int i = 0; i < d; ++i)
          x[i] = x0[i] + theta * ((x1[i] - x0[i]) + th1 * (r3[i] + theta * (r4[i] + th1 * r5[i])));
        return;
      }
    }
  }
  // RK4: h f0 and h f1, the vector field (projected drift plus forcing) at (t0, x0) and (t0 + h, x1), times h.
  int dense_work_dim(int d) const override { return method_ == Method::RK4 ? 2 * d : 0; }
  void dense_prepare(const Landscape& f, const double* x0, const double* x1, double t0, double h, std::uint64_t path,
                     std::uint64_t seed, double* work, int d) const override {
    if (method_ != Method::RK4) return;
    std::uint8_t singular = 0;
    const double t1 = t0 + h;
    drift(f, x0, &t0, &path, seed, 1, work, &singular);
    drift(f, x1, &t1, &path, seed, 1, work + d, &singular);
    for (int i = 0; i < 2 * d; ++i) work[i] *= h;
  }

  void advance(const Landscape& f, const StepInput& in, const StepOutput& out) const override {
    switch (method_) {
      case Method::Euler: return euler(f, in, out);
      case Method::RK4: return rk4(f, in, out);
      case Method::DP54: return dp54(f, in, out);
    }
  }

  // U_alpha(x) + w(t) at points x (d x n) and times t (n), for path `path` of run `seed`; flags singular points.
  void drift(const Landscape& f, const double* x, const double* t, const std::uint64_t* path, std::uint64_t seed,
             int width, double* u, std::uint8_t* singular) const {
    ProjectedDrift pd(c_.get(), f.dim(), alpha_, stol_);
    drift(f, pd, x, forcing(t, path, seed, width, 0), width, u, singular);
  }

 private:
  // Per-thread scratch: the integrators run inside the engine's block loop, where allocating would cost more
  // than the arithmetic on small blocks. `slot` separates the buffers in use at the same time.
  static double* scratch(int slot, long size) {
    thread_local std::vector<double> bufs[4];
    auto& b = bufs[slot];
    if (b.size() < static_cast<std::size_t>(size)) b.resize(static_cast<std::size_t>(size));
    return b.data();
  }

  // w at each lane's time (width x d) in scratch slot `slot`, or null without forcing.
  const double* forcing(const double* t, const std::uint64_t* path, std::uint64_t seed, int width, int slot) const {
    if (!w_) return nullptr;
    double* w = scratch(slot, static_cast<long>(w_->dim()) * width);
    w_->eval_lanes(t, seed, path, width, w);
    return w;
  }

  // u = U_alpha(x) + w (w may be null); a singular lane gets u = 0.
  void drift(const Landscape& f, ProjectedDrift& pd, const double* x, const double* w, int width, double* u,
             std::uint8_t* singular) const {
    const long n = static_cast<long>(f.dim()) * width;
    double* g = scratch(3, n);
    f.gradient(x, g, width);
    pd.lanes(x, g, u, singular, width);
    if (!w) return;
    for (long j = 0; j < n; ++j) u[j] += w[j];
    const int d = f.dim();
    for (int l = 0; l < width; ++l)
      if (singular[l])
        for (int i = 0; i < d; ++i) u[static_cast<long>(l) * d + i] = 0.0;
  }

  void euler(const Landscape& f, const StepInput& in, const StepOutput& out) const {
    const int d = f.dim(), width = in.width;
    const long n = static_cast<long>(d) * width;
    double *t = scratch(0, width + n), *u = t + width;
    for (int l = 0; l < width; ++l) t[l] = static_cast<double>(in.step[l]) * dt_;
    ProjectedDrift pd(c_.get(), d, alpha_, stol_);
    drift(f, pd, in.x, forcing(t, in.path, in.seed, width, 1), width, u, out.singular);
    const double scale = sigma_ * std::sqrt(dt_);
    for (long i = 0; i < n; ++i) out.x[i] = in.x[i] + dt_ * u[i] + (sigma_ > 0 ? scale * in.z[i] : 0.0);
    keep_singular(in, out, d);
  }

  // The forcing is evaluated at the three distinct stage times t, t + h/2 and t + h.
  void rk4(const Landscape& f, const StepInput& in, const StepOutput& out) const {
    const int d = f.dim(), width = in.width;
    const long n = static_cast<long>(d) * width;
    const double h = dt_;
    double *t = scratch(0, width + 5 * n), *y = t + width, *k1 = y + n, *k2 = k1 + n, *k3 = k2 + n, *k4 = k3 + n;
    ProjectedDrift pd(c_.get(), d, alpha_, stol_);
    for (int l = 0; l < width; ++l) t[l] = static_cast<double>(in.step[l]) * h;
    drift(f, pd, in.x, forcing(t, in.path, in.seed, width, 1), width, k1, out.singular);
    for (long i = 0; i < n; ++i) y[i] = in.x[i] + (0.5 * h) * k1[i];
    for (int l = 0; l < width; ++l) t[l] = (static_cast<double>(in.step[l]) + 0.5) * h;
    const double* w_mid = forcing(t, in.path, in.seed, width, 1);
    drift(f, pd, y, w_mid, width, k2, out.singular);
    for (long i = 0; i < n; ++i) y[i] = in.x[i] + (0.5 * h) * k2[i];
    drift(f, pd, y, w_mid, width, k3, out.singular);
    for (long i = 0; i < n; ++i) y[i] = in.x[i] + h * k3[i];
    for (int l = 0; l < width; ++l) t[l] = static_cast<double>(in.step[l] + 1) * h;
    drift(f, pd, y, forcing(t, in.path, in.seed, width, 1), width, k4, out.singular);
    for (long i = 0; i < n; ++i) out.x[i] = in.x[i] + (h / 6.0) * ((k1[i] + 2.0 * k2[i]) + (2.0 * k3[i] + k4[i]));
    keep_singular(in, out, d);
  }

  void dp54(const Landscape& f, const StepInput& in, const StepOutput& out) const {
    // Dormand & Prince (1980); error and dense-output coefficients as in Hairer's dopri5.
    static constexpr double c2 = 1.0 / 5, c3 = 3.0 / 10, c4 = 4.0 / 5, c5 = 8.0 / 9;
    static constexpr double a21 = 1.0 / 5, a31 = 3.0 / 40, a32 = 9.0 / 40, a41 = 44.0 / 45, a42 = -56.0 / 15,
                            a43 = 32.0 / 9, a51 = 19372.0 / 6561, a52 = -25360.0 / 2187, a53 = 64448.0 / 6561,
                            a54 = -212.0 / 729, a61 = 9017.0 / 3168, a62 = -355.0 / 33, a63 = 46732.0 / 5247,
                            a64 = 49.0 / 176, a65 = -5103.0 / 18656, a71 = 35.0 / 384, a73 = 500.0 / 1113,
                            a74 = 125.0 / 192, a75 = -2187.0 / 6784, a76 = 11.0 / 84;
    static constexpr double e1 = 71.0 / 57600, e3 = -71.0 / 16695, e4 = 71.0 / 1920, e5 = -17253.0 / 339200,
                            e6 = 22.0 / 525, e7 = -1.0 / 40;
    static constexpr double d1 = -12715105075.0 / 11282082432.0, d3 = 87487479700.0 / 32700410799.0,
                            d4 = -10690763975.0 / 1880347072.0, d5 = 701980252875.0 / 199316789632.0,
                            d6 = -1453857185.0 / 822651844.0, d7 = 69997945.0 / 29380423.0;
    const int d = f.dim(), width = in.width, sd = state_dim(d);
    const long n = static_cast<long>(d) * width;
    double *t0 = scratch(0, 3 * width + 8 * n), *h = t0 + width, *t = h + width, *y = t + width;
    double *k1 = y + n, *k2 = k1 + n, *k3 = k2 + n, *k4 = k3 + n, *k5 = k4 + n, *k6 = k5 + n, *k7 = k6 + n;
    const double* x = in.x;
    for (int l = 0; l < width; ++l) {
      const double* s = in.state + static_cast<long>(l) * sd;
      t0[l] = s[0];
      const double left = in.t_end - s[0];
      h[l] = std::min(std::min(s[1], hmax_), left);
      // A step that would end just short of t_end takes t_end instead (no sliver step).
      if (left - h[l] <= 1e-12 * std::max(1.0, std::abs(in.t_end))) h[l] = left;
      if (!(h[l] > 0)) {  // an idle lane (its state may be anything): evaluate harmlessly at t = 0, stay put
        h[l] = 0.0;
        t0[l] = 0.0;
      }
    }
    auto stage_t = [&](double c) {
      for (int l = 0; l < width; ++l) t[l] = t0[l] + c * h[l];
    };
    auto combine = [&](std::initializer_list<std::pair<double, const double*>> terms) {
      for (int l = 0; l < width; ++l)
        for (int i = 0; i < d; ++i) {
          const long j = static_cast<long>(l) * d + i;
          double s = 0;
          for (const auto& [a, kk] : terms) s += a * kk[j];
          y[j] = x[j] + h[l] * s;
        }
    };
    std::uint8_t* sing = out.singular;
    ProjectedDrift pd(c_.get(), d, alpha_, stol_);
    auto stage = [&](const double* at, double* k) {
      drift(f, pd, at, forcing(t, in.path, in.seed, width, 1), width, k, sing);
    };
    // The first stage: lanes that know their drift at (t0, x) from their last attempt copy it; the others (paths
    // that just started) are gathered and evaluated together.
    const int known = 4 + 3 * d;
    stage_t(0.0);
    thread_local std::vector<int> todo;
    todo.clear();
    for (int l = 0; l < width; ++l) {
      const double* s = in.state + static_cast<long>(l) * sd;
      if (s[known] == 1.0)
        std::copy(s + known + 1, s + known + 1 + d, k1 + static_cast<long>(l) * d);
      else
        todo.push_back(l);
    }
    if (static_cast<int>(todo.size()) == width) {
      stage(x, k1);
    } else if (!todo.empty()) {
      first_stage_of(f, pd, in, todo, t, k1, sing);
    }
    combine({{a21, k1}});
    stage_t(c2);
    stage(y, k2);
    combine({{a31, k1}, {a32, k2}});
    stage_t(c3);
    stage(y, k3);
    combine({{a41, k1}, {a42, k2}, {a43, k3}});
    stage_t(c4);
    stage(y, k4);
    combine({{a51, k1}, {a52, k2}, {a53, k3}, {a54, k4}});
    stage_t(c5);
    stage(y, k5);
    combine({{a61, k1}, {a62, k2}, {a63, k3}, {a64, k4}, {a65, k5}});
    stage_t(1.0);
    stage(y, k6);
    combine({{a71, k1}, {a73, k3}, {a74, k4}, {a75, k5}, {a76, k6}});  // the 5th-order solution
    stage(y, k7);
    for (int l = 0; l < width; ++l) {
      const long o = static_cast<long>(l) * d;
      const double* s = in.state + static_cast<long>(l) * sd;
      double* sn = out.state + static_cast<long>(l) * sd;
      for (int i = 0; i < sd; ++i) sn[i] = s[i];
      const double hl = h[l];
      double err2 = 0;
      for (int i = 0; i < d; ++i) {
        const long j = o + i;
        const double e = hl * (e1 * k1[j] + e3 * k3[j] + e4 * k4[j] + e5 * k5[j] + e6 * k6[j] + e7 * k7[j]);
        const double sc = atol_ + rtol_ * std::max(std::abs(x[j]), std::abs(y[j]));
        const double r = e == 0 ? 0.0 : e / sc;  // a coordinate exactly 0 with atol = 0: no error, not 0 / 0
        err2 += r * r;
      }
      const double err = std::sqrt(err2 / d);
      if (sing[l] || !(hl > 0)) {  // singular (the engine ends the path) or idle: stay put
        for (int i = 0; i < d; ++i) out.x[o + i] = x[o + i];
        continue;
      }
      // Step-size controller: 0.9 err^(-1/5), within [1/5, 5] (no increase right after a rejection).
      const double fac = err > 0 ? 0.9 * std::pow(err, -0.2) : 5.0;
      if (err <= 1.0) {
        double* r3 = sn + 4;
        double *r4 = r3 + d, *r5 = r4 + d;
        for (int i = 0; i < d; ++i) {
          const long j = o + i;
          const double dx = y[j] - x[j], bspl = hl * k1[j] - dx;
          r3[i] = bspl;
          r4[i] = dx - hl * k7[j] - bspl;
          r5[i] = hl * (d1 * k1[j] + d3 * k3[j] + d4 * k4[j] + d5 * k5[j] + d6 * k6[j] + d7 * k7[j]);
          out.x[j] = y[j];
        }
        const bool capped = hl == in.t_end - t0[l];
        sn[0] = capped ? in.t_end : t0[l] + hl;  // land exactly on the cap
        // k7 is the drift at (t0 + h, y): the next first stage, unless the cap moved the time off t0 + h.
        sn[known] = capped ? 0.0 : 1.0;
        for (int i = 0; i < d; ++i) sn[known + 1 + i] = k7[o + i];
        sn[2] = t0[l];
        sn[3] = hl;
        sn[1] = std::min(hl * std::min(5.0, std::max(0.2, fac)), hmax_);
        if (hl < s[1] && hl == in.t_end - t0[l]) sn[1] = s[1];  // a step shortened by the cap keeps its size
      } else {
        for (int i = 0; i < d; ++i) out.x[o + i] = x[o + i];
        sn[1] = hl * std::min(1.0, std::max(0.2, std::isfinite(fac) ? fac : 0.2));
        sn[known] = 1.0;  // the retry starts from the same (t0, x)
        for (int i = 0; i < d; ++i) sn[known + 1 + i] = k1[o + i];
      }
    }
  }

  // k1 = U(x) + w(t) of the lanes `lanes` only, evaluated as one smaller block.
  void first_stage_of(const Landscape& f, ProjectedDrift& pd, const StepInput& in, const std::vector<int>& lanes,
                      const double* t, double* k1, std::uint8_t* singular) const {
    const int d = f.dim(), n = static_cast<int>(lanes.size());
    thread_local std::vector<std::uint64_t> path;
    thread_local std::vector<std::uint8_t> sing;
    path.resize(static_cast<std::size_t>(n));
    sing.assign(static_cast<std::size_t>(n), 0);
    double* x = scratch(2, static_cast<long>(2 * d + 1) * n);
    double *k = x + static_cast<long>(d) * n, *tt = k + static_cast<long>(d) * n;
    for (int j = 0; j < n; ++j) {
      const int l = lanes[static_cast<std::size_t>(j)];
      std::copy(in.x + static_cast<long>(l) * d, in.x + static_cast<long>(l + 1) * d, x + static_cast<long>(j) * d);
      tt[j] = t[l];
      path[static_cast<std::size_t>(j)] = in.path ? in.path[l] : 0;
    }
    drift(f, pd, x, forcing(tt, path.data(), in.seed, n, 1), n, k, sing.data());
    for (int j = 0; j < n; ++j) {
      const int l = lanes[static_cast<std::size_t>(j)];
      std::copy(k + static_cast<long>(j) * d, k + static_cast<long>(j + 1) * d, k1 + static_cast<long>(l) * d);
      singular[l] |= sing[static_cast<std::size_t>(j)];
    }
  }

  // A lane whose drift was singular somewhere in the step stays where it was (finite), for the engine to end.
  static void keep_singular(const StepInput& in, const StepOutput& out, int d) {
    for (int l = 0; l < in.width; ++l)
      if (out.singular[l])
        for (int i = 0; i < d; ++i) out.x[static_cast<long>(l) * d + i] = in.x[static_cast<long>(l) * d + i];
  }

  std::shared_ptr<const Constraint> c_;
  std::shared_ptr<const Forcing> w_;
  Method method_;
  double alpha_, dt_, sigma_, rtol_, atol_, stol_, etol_, hmax_;
  Diffusion diffusion_;
};

}  // namespace escapade
