// Landscapes, constraints and forcings whose functions are compiled elsewhere (numba cfuncs, C, Fortran) and
// called through C function pointers from the worker threads, without the GIL.
#pragma once

#include <cmath>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "escapade/constraint.hpp"
#include "escapade/forcing.hpp"
#include "escapade/landscape.hpp"
#include "escapade/landscapes/finite_sum.hpp"

namespace escapade {

// The C signatures. Points are stored one after another (point l at x + l * d), the layout of a C-ordered
// numpy array of shape (width, d); H is d x d (symmetric, so row- and column-major agree).
extern "C" {
using GradientFn = void (*)(const double* x, double* g, std::int64_t d, std::int64_t width);
using ValueFn = double (*)(const double* x, std::int64_t d);
using HessianFn = void (*)(const double* x, double* H, std::int64_t d);
using TermGradientFn = void (*)(std::int64_t i, const double* x, double* g, std::int64_t d);  // g = grad f_i(x)
// Constraints g: R^n -> R^m; J is m x n row-major (a C-ordered numpy (m, n) array).
using ConstraintValueFn = void (*)(const double* x, double* g, std::int64_t n, std::int64_t m);
using ConstraintJacobianFn = void (*)(const double* x, double* J, std::int64_t n, std::int64_t m);
using ForcingFn = void (*)(double t, double* w, std::int64_t n);
}

// A compiled callback that fails (a numba exception) says so by calling escapade_callback_error(lane), whose
// address escapade's numba wrappers hold (lane: the point of the block it failed on, or -1 when unknown). That
// marks the calling thread; the landscape checks the mark after each call and throws CallbackFailure, which the
// bindings raise as escapade's CallbackError.
class CallbackFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
struct CallbackErrorMark {
  bool failed = false;
  std::int64_t lane = -1;
};
inline CallbackErrorMark& callback_error_mark() {
  thread_local CallbackErrorMark mark;
  return mark;
}
}  // namespace detail

extern "C" inline void escapade_callback_error(std::int64_t lane) {
  detail::callback_error_mark() = {true, lane};
}

struct CompiledFunctions {
  std::string name;  // shown in errors and results
  GradientFn gradient = nullptr;
  ValueFn value = nullptr;
  HessianFn hessian = nullptr;
  TermGradientFn term_gradient = nullptr;
};

namespace detail {

// A NaN a compiled callback returns at a finite point stops the run with an error that names it rather than
// report the path as diverged. (At non-finite points NaN is expected
// and the engine reports divergence.)
inline void check_output(const std::string& callback, const std::string& landscape, const double* x, const double* out,
                         int d, int width, int out_per_point) {
  bool nan = false;
  for (long i = 0; i < static_cast<long>(out_per_point) * width; ++i) nan = nan || std::isnan(out[i]);
  if (!nan) return;
  for (int l = 0; l < width; ++l) {
    const double* xl = x + static_cast<long>(l) * d;
    const double* ol = out + static_cast<long>(l) * out_per_point;
    bool finite = true, bad = false;
    for (int i = 0; i < d; ++i) finite = finite && std::isfinite(xl[i]);
    for (int i = 0; i < out_per_point; ++i) bad = bad || std::isnan(ol[i]);
    if (!finite || !bad) continue;
    std::ostringstream msg;
    msg.precision(17);
    msg << callback << " callback of " << landscape << " returned NaN at the finite point x = [";
    for (int i = 0; i < d; ++i) msg << (i ? ", " : "") << xl[i];
    msg << "]";
    throw std::invalid_argument(msg.str());
  }
}

// After a call: the callback marked an error (see escapade_callback_error) -> CallbackFailure naming it and the
// point it failed at (x: width points of dimension d; at_time: the forcing's time t instead of a point).
inline void check_failure(const std::string& callback, const std::string& owner, const double* x, int d, int width,
                          const double* at_time = nullptr) {
  CallbackErrorMark& mark = callback_error_mark();
  if (!mark.failed) return;
  const std::int64_t lane = width == 1 ? 0 : mark.lane;
  mark = {};
  std::ostringstream msg;
  msg.precision(17);
  msg << callback << " callback of " << owner << " raised an exception";
  if (at_time != nullptr) {
    msg << " at t = " << *at_time;
  } else {
    const double* xl = x + (lane >= 0 && lane < width ? lane : 0) * static_cast<std::int64_t>(d);
    msg << (lane >= 0 && lane < width ? " at x = [" : " on a block of points, the first x = [");
    for (int i = 0; i < d; ++i) msg << (i ? ", " : "") << xl[i];
    msg << "]";
  }
  msg << " (numba does not pass on its message: call the function there from Python to see it)";
  throw CallbackFailure(msg.str());
}

template <class Base>
class CompiledBase : public Base {
 public:
  CompiledBase(int dim, CompiledFunctions fns) : d_(dim), fns_(std::move(fns)) {
    require(dim >= 1, "dim", dim, "a positive integer");
  }
  int dim() const override { return d_; }
  std::string name() const override { return fns_.name; }
  double value(const double* x) const override {
    require(fns_.value != nullptr, fns_.name + " has no value callback (pass value= to evaluate f)");
    const double v = fns_.value(x, d_);
    check_failure("value", fns_.name, x, d_, 1);
    check_output("value", fns_.name, x, &v, d_, 1, 1);
    return v;
  }
  void gradient(const double* x, double* g, int width) const override {
    if constexpr (std::is_base_of_v<FiniteSum, Base>) {
      if (fns_.gradient == nullptr) return FiniteSum::gradient(x, g, width);
    }
    fns_.gradient(x, g, d_, width);
    check_failure("gradient", fns_.name, x, d_, width);
    check_output("gradient", fns_.name, x, g, d_, width, d_);
  }
  void hessian(const double* x, double* H) const override {
    require(fns_.hessian != nullptr, fns_.name + " has no hessian callback (pass hessian= to evaluate it)");
    fns_.hessian(x, H, d_);
    check_failure("hessian", fns_.name, x, d_, 1);
    check_output("hessian", fns_.name, x, H, d_, 1, d_ * d_);
  }

 protected:
  int d_;
  CompiledFunctions fns_;
};

}  // namespace detail

class CompiledLandscape final : public detail::CompiledBase<Landscape> {
 public:
  CompiledLandscape(int dim, CompiledFunctions fns) : CompiledBase(dim, std::move(fns)) {
    require(fns_.gradient != nullptr, "gradient", "missing", "a compiled function");
  }
};

// A finite sum F = sum_i p_i f_i from a compiled per-term gradient (for SGD-k and friends); the full gradient is
// the compiled `gradient` when given, else the weighted sum of the terms.
class CompiledFiniteSum final : public detail::CompiledBase<FiniteSum> {
 public:
  CompiledFiniteSum(int dim, CompiledFunctions fns, Vector p) : CompiledBase(dim, std::move(fns)), p_(std::move(p)) {
    require(fns_.term_gradient != nullptr, "term_gradient", "missing", "a compiled function");
    uniform_ = check_weights(p_);
  }
  int n_terms() const override { return static_cast<int>(p_.size()); }
  const Vector& weights() const override { return p_; }
  bool uniform() const override { return uniform_; }
  void add_term_gradient(int i, const double* x, double* g) const override {
    thread_local std::vector<double> gi;
    gi.resize(d_);
    fns_.term_gradient(i, x, gi.data(), d_);
    detail::check_failure("term_gradient", fns_.name, x, d_, 1);
    detail::check_output("term_gradient", fns_.name, x, gi.data(), d_, 1, d_);
    for (int j = 0; j < d_; ++j) g[j] += gi[j];
  }

 private:
  Vector p_;
  bool uniform_ = false;
};

// g(x) = 0 from compiled value and Jacobian functions.
class CompiledConstraint final : public Constraint {
 public:
  CompiledConstraint(int dim, int m, std::string name, ConstraintValueFn value, ConstraintJacobianFn jacobian)
      : n_(dim), m_(m), name_(std::move(name)), value_(value), jacobian_(jacobian) {
    require(dim >= 1, "dim", dim, "a positive integer");
    require(m >= 1 && m <= dim, "n_constraints", m, "between 1 and dim");
    require(value != nullptr && jacobian != nullptr, "value and jacobian", "missing", "compiled functions");
  }
  int dim() const override { return n_; }
  int n_constraints() const override { return m_; }
  std::string name() const override { return name_; }
  void value(const double* x, double* g) const override {
    value_(x, g, n_, m_);
    detail::check_failure("value", name_, x, n_, 1);
    detail::check_output("value", name_, x, g, n_, 1, m_);
  }
  void jacobian(const double* x, double* J) const override {
    thread_local std::vector<double> rows;
    rows.resize(static_cast<std::size_t>(m_) * n_);
    jacobian_(x, rows.data(), n_, m_);
    detail::check_failure("jacobian", name_, x, n_, 1);
    detail::check_output("jacobian", name_, x, rows.data(), n_, 1, m_ * n_);
    for (int i = 0; i < m_; ++i)
      for (int j = 0; j < n_; ++j) J[i + static_cast<long>(j) * m_] = rows[static_cast<long>(i) * n_ + j];
  }

 private:
  int n_, m_;
  std::string name_;
  ConstraintValueFn value_;
  ConstraintJacobianFn jacobian_;
};

// A deterministic forcing w(t) from a compiled function (the same for every path).
class CompiledForcing final : public Forcing {
 public:
  CompiledForcing(int dim, std::string name, ForcingFn fn) : n_(dim), name_(std::move(name)), fn_(fn) {
    require(dim >= 1, "dim", dim, "a positive integer");
    require(fn != nullptr, "forcing", "missing", "a compiled function");
  }
  int dim() const override { return n_; }
  std::string name() const override { return name_; }
  void eval(double t, std::uint64_t, std::uint64_t, double* w) const override {
    fn_(t, w, n_);
    detail::check_failure("forcing", name_, nullptr, n_, 1, &t);
    bool nan = false;
    for (int i = 0; i < n_; ++i) nan = nan || std::isnan(w[i]);
    require(!nan || !std::isfinite(t), "forcing callback of " + name_ + " returned NaN at the finite time t = " +
                                           std::to_string(t));
  }

 private:
  int n_;
  std::string name_;
  ForcingFn fn_;
};

}  // namespace escapade
