// Drifts that are not gradients, and state-dependent noise factors, for the general SDE
//   dX = [b(X, t) + w(t)] dt + eps S(X) dW       (dynamics/sde.hpp)
//
// DriftField: a vector field b(x, t) given as itself, never as minus a gradient. It is a Landscape only so that
// it can stand where the engine expects the problem's function (its dimension); value, gradient and Hessian
// throw, so no dynamics or analysis can take it for a gradient by mistake.
// DiffusionField: a noise factor S(x), d x k per point (a C-ordered (d, k) array per point, points one after
// another), for the state-dependent diffusion D(x) = eps^2 S S^T / 2 (Ito).
#pragma once

#include <cmath>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "escapade/compiled.hpp"
#include "escapade/landscape.hpp"
#include "escapade/mathfn.hpp"
#include "escapade/types.hpp"
#include "escapade/validate.hpp"

namespace escapade {

class DriftField : public Landscape {
 public:
  // Whether b depends on t (the SDE then passes each lane's time; otherwise t may be anything).
  virtual bool time_dependent() const { return false; }
  // b(x_l, t_l) for `width` points x (d x width, column-major = points one after another) and times t (width).
  virtual void field(const double* x, const double* t, double* b, int width) const = 0;

  double value(const double*) const override {
    throw std::invalid_argument(name() + " is a drift b(x), not a landscape: it has no value f(x)");
  }
  void gradient(const double*, double*, int) const override {
    throw std::invalid_argument(name() + " is a drift b(x), not the gradient of a landscape: only the SDE "
                                         "dynamics (Langevin) take a drift");
  }
  void hessian(const double*, double*) const override {
    throw std::invalid_argument(name() + " is a drift b(x), not a landscape: it has no Hessian");
  }
};

// b(x) = -A (x - center) with any square A (non-symmetric: not a gradient).
class LinearDrift final : public DriftField {
 public:
  LinearDrift(Matrix A, Vector center) : A_(std::move(A)), c_(std::move(center)) {
    require(A_.rows() >= 1 && A_.rows() == A_.cols() && A_.allFinite(), "A",
            std::to_string(A_.rows()) + " x " + std::to_string(A_.cols()), "a finite square matrix");
    require(c_.size() == A_.rows() && c_.allFinite(), "center", "of length " + std::to_string(c_.size()),
            "a finite vector of length " + std::to_string(A_.rows()));
  }
  int dim() const override { return static_cast<int>(A_.rows()); }
  std::string name() const override { return "LinearDrift"; }
  void field(const double* x, const double*, double* b, int width) const override {
    const int d = dim();
    for (int l = 0; l < width; ++l) {
      const double* xl = x + static_cast<long>(l) * d;
      double* bl = b + static_cast<long>(l) * d;
      for (int i = 0; i < d; ++i) {
        double s = 0.0;
        for (int j = 0; j < d; ++j) s += A_(i, j) * (xl[j] - c_[j]);
        bl[i] = -s;
      }
    }
  }

 private:
  Matrix A_;
  Vector c_;
};

// The tilted periodic potential, coordinate by coordinate: b_i(x) = F_i - (2 pi V0 / L) sin(2 pi x_i / L), the
// force of U(x) = sum_i [-V0 cos(2 pi x_i / L) - F_i x_i]. On the circle (x mod L) it has no potential when F != 0.
class TiltedPeriodicDrift final : public DriftField {
 public:
  TiltedPeriodicDrift(Vector force, double barrier, double period)
      : F_(std::move(force)), v0_(barrier), L_(period) {
    require(F_.size() >= 1 && F_.allFinite(), "force", "empty or non-finite", "a finite vector (one per coordinate)");
    require(std::isfinite(barrier) && barrier >= 0, "barrier", barrier, "finite and >= 0");
    require(std::isfinite(period) && period > 0, "period", period, "a positive finite number");
  }
  int dim() const override { return static_cast<int>(F_.size()); }
  std::string name() const override { return "TiltedPeriodic"; }
  void field(const double* x, const double*, double* b, int width) const override {
    const long n = static_cast<long>(dim()) * width;
    thread_local std::vector<double> buf;
    buf.resize(static_cast<std::size_t>(3 * n));
    double *arg = buf.data(), *c = arg + n, *s = c + n;
    const double k = 2.0 * M_PI / L_, amp = k * v0_;
    for (long i = 0; i < n; ++i) arg[i] = k * x[i];
    mathfn::sincos(arg, c, s, static_cast<int>(n));
    const int d = dim();
    for (long i = 0; i < n; ++i) b[i] = F_[i % d] - amp * s[i];
  }

 private:
  Vector F_;
  double v0_, L_;
};

extern "C" {
// b(x_l, t_l) for width points, one after another (a C-ordered (width, d) array), t (width).
using DriftFn = void (*)(const double* x, const double* t, double* b, std::int64_t d, std::int64_t width);
// S(x_l) for width points: out is (width, d, k) C-ordered.
using DiffusionFn = void (*)(const double* x, double* S, std::int64_t d, std::int64_t k, std::int64_t width);
}

class CompiledDrift final : public DriftField {
 public:
  CompiledDrift(int dim, std::string name, DriftFn fn, bool time_dependent)
      : d_(dim), name_(std::move(name)), fn_(fn), td_(time_dependent) {
    require(dim >= 1, "dim", dim, "a positive integer");
    require(fn != nullptr, "drift", "missing", "a compiled function");
  }
  int dim() const override { return d_; }
  std::string name() const override { return name_; }
  bool time_dependent() const override { return td_; }
  void field(const double* x, const double* t, double* b, int width) const override {
    fn_(x, t, b, d_, width);
    detail::check_failure("drift", name_, x, d_, width);
    detail::check_output("drift", name_, x, b, d_, width, d_);
  }

 private:
  int d_;
  std::string name_;
  DriftFn fn_;
  bool td_;
};

// A noise factor S(x), d x k per point. dim() 0: a factor written for any dimension d (then k = d unless the
// factor says otherwise).
class DiffusionField {
 public:
  virtual ~DiffusionField() = default;
  virtual int dim() const = 0;
  virtual int noise_dim(int d) const = 0;  // k in dimension d
  virtual std::string name() const = 0;
  // S for `width` points x of dimension d (points one after another): S is (width, d, k) C-ordered.
  virtual void factor(const double* x, double* S, int d, int width) const = 0;

 protected:
  // Every entry of S finite at finite points; else an error naming the callback and the point.
  void check_finite(const double* x, const double* S, int d, int k, int width) const {
    for (int l = 0; l < width; ++l) {
      const double* xl = x + static_cast<long>(l) * d;
      const double* sl = S + static_cast<long>(l) * d * k;
      bool finite_x = true, finite_s = true;
      for (int i = 0; i < d; ++i) finite_x = finite_x && std::isfinite(xl[i]);
      for (long i = 0; i < static_cast<long>(d) * k; ++i) finite_s = finite_s && std::isfinite(sl[i]);
      if (!finite_x || finite_s) continue;
      std::ostringstream msg;
      msg.precision(17);
      msg << "S callback " << name() << " returned a non-finite entry at the finite point x = [";
      for (int i = 0; i < d; ++i) msg << (i ? ", " : "") << xl[i];
      msg << "]";
      throw std::invalid_argument(msg.str());
    }
  }
};

class CompiledDiffusion final : public DiffusionField {
 public:
  // dim 0: any dimension; noise_dim 0: k = d.
  CompiledDiffusion(int dim, int k, std::string name, DiffusionFn fn) : d_(dim), k_(k), name_(std::move(name)), fn_(fn) {
    require(dim >= 0, "dim", dim, ">= 0 (0: any)");
    require(k >= 0, "noise_dim", k, ">= 0 (0: the dimension)");
    require(fn != nullptr, "S", "missing", "a compiled function");
  }
  int dim() const override { return d_; }
  int noise_dim(int d) const override { return k_ > 0 ? k_ : d; }
  std::string name() const override { return name_; }
  void factor(const double* x, double* S, int d, int width) const override {
    const int k = noise_dim(d);
    fn_(x, S, d, k, width);
    detail::check_failure("S", name_, x, d, width);
    check_finite(x, S, d, k, width);
  }

 private:
  int d_, k_;
  std::string name_;
  DiffusionFn fn_;
};

}  // namespace escapade
