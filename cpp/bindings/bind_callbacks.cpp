// User landscapes, constraints and forcings: compiled callbacks (C function pointers, e.g. numba cfuncs) called without the GIL, and
// batched Python callbacks called with the GIL once per block-step on a whole block of lanes.
#include <pybind11/stl.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <sstream>
#include <type_traits>
#include <utility>

#include "escapade/compiled.hpp"
#include "escapade/drift.hpp"
#include "numpy.hpp"

using namespace escapade;
using namespace escapade::py_glue;
using namespace pybind11::literals;

namespace {

// A new C-contiguous numpy array of `shape` that owns its memory, read-only (a function must not change the
// engine's state through it). Made with numpy's C API directly: no shape vector or owner object.
template <class T>
py::object owned_array(std::initializer_list<py::ssize_t> shape) {
  const auto& api = py::detail::npy_api::get();
  Py_intptr_t dims[4] = {0, 0, 0, 0};  // the arguments are vectors and matrices
  int nd = 0;
  for (const py::ssize_t n : shape) dims[nd++] = n;
  PyObject* descr = api.PyArray_DescrFromType_(py::detail::npy_format_descriptor<T>::value);  // stolen below
  // flags 0: with no data given, numpy allocates in C order (any other flag asks for Fortran order)
  PyObject* a = api.PyArray_NewFromDescr_(api.PyArray_Type_, descr, nd, dims, nullptr, nullptr, 0, nullptr);
  if (a == nullptr) throw py::error_already_set();
  py::detail::array_proxy(a)->flags &= ~api.NPY_ARRAY_WRITEABLE_;  // numpy's PyArray_CLEARFLAGS
  return py::reinterpret_steal<py::object>(a);
}

// A user's Python function and the name errors give it. Calls hold the GIL; anything wrong -- an exception, a
// result that is not an array of the expected shape, NaN at a finite point -- raises `error` (escapade's
// CallbackError) naming the callback, from whichever thread called it; `run` re-raises it on the calling thread.
// What is not an Exception (KeyboardInterrupt from Ctrl-C, SystemExit) passes through unchanged.
struct Callback {
  py::object fn;  // None: not given
  std::string name;
  mutable std::array<py::object, 2> arrays_{};  // the arrays of the last call's arguments (argument)

  bool given() const { return !fn.is_none(); }

  // Argument `slot` of a call: an array that owns its memory, filled with `data`. A function may keep it (or a view
  // of it) past the call: it keeps that call's values, not a pointer into the engine's buffers, which are reused
  // and freed (a view of them read after the run crashed the interpreter). The slot's array is reused while
  // nothing else refers to it (the last call kept nothing, and no other thread's call is using it), so a call
  // costs a copy of its arguments, not an allocation. Calls hold the GIL.
  template <class T>
  py::object argument(int slot, const T* data, std::initializer_list<py::ssize_t> shape) const {
    py::object& a = arrays_[static_cast<std::size_t>(slot)];
    bool reuse = a && Py_REFCNT(a.ptr()) == 1;
    if (reuse) {
      const auto* proxy = py::detail::array_proxy(a.ptr());
      reuse = proxy->nd == static_cast<int>(shape.size());
      int axis = 0;
      for (const py::ssize_t n : shape) reuse = reuse && proxy->dimensions[axis++] == n;
    }
    if (!reuse) a = owned_array<T>(shape);
    py::ssize_t size = 1;
    for (const py::ssize_t n : shape) size *= n;
    std::copy(data, data + size, reinterpret_cast<T*>(py::detail::array_proxy(a.ptr())->data));
    return a;
  }

  [[noreturn]] void fail(const py::object& error, const char* kind, const std::string& what) const {
    PyErr_SetString(error.ptr(), (std::string(kind) + " callback " + name + " " + what).c_str());
    throw py::error_already_set();
  }

  template <class... Args>
  py::object call(const py::object& error, const char* kind, const Args&... args) const {
    // A vectorcall: no argument tuple is built.
    PyObject* argv[] = {args.ptr()...};
    PyObject* result = PyObject_Vectorcall(fn.ptr(), argv, sizeof...(Args), nullptr);
    if (result != nullptr) return py::reinterpret_steal<py::object>(result);
    py::error_already_set e;
    if (!e.matches(PyExc_Exception)) throw e;
    const std::string what = "raised " + py::str(e.type().attr("__name__")).cast<std::string>() + ": " +
                             py::str(e.value()).cast<std::string>();
    py::raise_from(e, error.ptr(), (std::string(kind) + " callback " + name + " " + what).c_str());
    throw py::error_already_set();
  }

  // Calls fn and copies its result, an array of `shape`, to out; x (n_points x d) is checked for NaN rows.
  template <class... Args>
  void call_into(const py::object& error, const char* kind, double* out, std::initializer_list<py::ssize_t> shape,
                 const double* x, int n_points, int d, const Args&... args) const {
    using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;
    const py::object result = call(error, kind, args...);
    // A C-contiguous float64 array (what numpy code returns) is read in place; anything else is converted, except
    // complex values, which would be cut to their real parts (with only numpy's ComplexWarning).
    const bool in_place = Array::check_(result);
    if (!in_place) {
      const py::array any = py::array::ensure(result);  // a list of complex numbers too
      if (any && any.dtype().kind() == 'c')
        fail(error, kind, "must return real numbers, got " + py::str(any.dtype()).cast<std::string>() + " values");
    }
    const Array a = in_place ? py::reinterpret_borrow<Array>(result) : Array::ensure(result);
    if (!a) fail(error, kind, "must return an array (anything numpy.asarray takes), got " +
                                   py::str(py::type::of(result).attr("__name__")).cast<std::string>());
    bool same = a.ndim() == static_cast<py::ssize_t>(shape.size());
    py::ssize_t axis = 0;
    for (const py::ssize_t n : shape) same = same && a.shape(axis++) == n;
    if (!same) {
      std::vector<py::ssize_t> want(shape), got(a.shape(), a.shape() + a.ndim());
      fail(error, kind, "must return an array of shape " + py::str(py::tuple(py::cast(want))).cast<std::string>() +
                            ", got " + py::str(py::tuple(py::cast(got))).cast<std::string>());
    }
    const long size = static_cast<long>(a.size());
    std::copy(a.data(), a.data() + size, out);
    check_nan(error, kind, out, size / n_points, x, n_points, d);
  }

  // NaN at a finite point is an error; at a non-finite point (a path that blew up) it is divergence.
  void check_nan(const py::object& error, const char* kind, const double* out, long per_point, const double* x,
                 int n_points, int d) const {
    bool nan = false;
    for (long i = 0; i < per_point * n_points; ++i) nan |= out[i] != out[i];  // vectorizes, unlike || isnan
    if (!nan) return;
    for (int l = 0; l < n_points; ++l) {
      const double* xl = x + static_cast<long>(l) * d;
      bool finite = true, bad = false;
      for (int i = 0; i < d; ++i) finite = finite && std::isfinite(xl[i]);
      for (long i = 0; i < per_point; ++i) bad = bad || std::isnan(out[l * per_point + i]);
      if (!finite || !bad) continue;
      std::ostringstream where;
      where.precision(17);
      for (int i = 0; i < d; ++i) where << (i ? ", " : "") << xl[i];
      fail(error, kind, "returned NaN at the finite point x = [" + where.str() + "]");
    }
  }
};

// The user's functions: gradient(x (w, d)) -> (w, d), value(x (d,)) -> float, hessian(x (d,)) -> (d, d),
// term_gradients(terms (w,), x (w, d)) -> (w, d) with row l = grad f_{terms[l]}(x[l]).
struct PythonFunctions {
  std::string name;  // the landscape's
  Callback gradient, value, hessian, term_gradients;
  py::object error;  // the exception type to raise
};

template <class Base>
class PythonBase : public Base {
 public:
  PythonBase(int dim, PythonFunctions fns) : d_(dim), fns_(std::move(fns)) {
    require(dim >= 1, "dim", dim, "a positive integer");
  }
  ~PythonBase() override {
    py::gil_scoped_acquire gil;
    fns_ = {};
  }
  int dim() const override { return d_; }
  std::string name() const override { return fns_.name; }
  bool keep_blocks_dense() const override { return true; }
  double value(const double* x) const override {
    require(fns_.value.given(), fns_.name + " has no value callback (pass value= to evaluate f)");
    py::gil_scoped_acquire gil;
    const py::object result = fns_.value.call(fns_.error, "value", fns_.value.argument(0, x, {d_}));
    double v;
    try {
      v = py::float_(result).cast<double>();
    } catch (py::error_already_set&) {
      fns_.value.fail(fns_.error, "value", "must return a number, got " + py::repr(result).cast<std::string>());
    }
    fns_.value.check_nan(fns_.error, "value", &v, 1, x, 1, d_);
    return v;
  }
  void gradient(const double* x, double* g, int width) const override {
    if constexpr (std::is_base_of_v<FiniteSum, Base>) {
      if (!fns_.gradient.given()) return FiniteSum::gradient(x, g, width);
    }
    py::gil_scoped_acquire gil;
    fns_.gradient.call_into(fns_.error, "gradient", g, {width, d_}, x, width, d_,
                            fns_.gradient.argument(0, x, {width, d_}));
  }
  void hessian(const double* x, double* H) const override {
    require(fns_.hessian.given(), fns_.name + " has no hessian callback (pass hessian= to evaluate it)");
    py::gil_scoped_acquire gil;
    fns_.hessian.call_into(fns_.error, "hessian", H, {d_, d_}, x, 1, d_, fns_.hessian.argument(0, x, {d_}));
  }

 protected:
  int d_;
  PythonFunctions fns_;
};

class PythonLandscape final : public PythonBase<Landscape> {
 public:
  using PythonBase::PythonBase;
};

class PythonFiniteSum final : public PythonBase<FiniteSum> {
 public:
  PythonFiniteSum(int dim, PythonFunctions fns, Vector p) : PythonBase(dim, std::move(fns)), p_(std::move(p)) {
    uniform_ = check_weights(p_);
  }
  int n_terms() const override { return static_cast<int>(p_.size()); }
  const Vector& weights() const override { return p_; }
  bool uniform() const override { return uniform_; }
  void add_term_gradient(int i, const double* x, double* g) const override { add_term_gradients(&i, x, g, 1); }
  void add_term_gradients(const int* terms, const double* x, double* g, int width) const override {
    thread_local std::vector<double> out;
    const long n = static_cast<long>(d_) * width;
    out.resize(static_cast<std::size_t>(n));
    {
      py::gil_scoped_acquire gil;
      fns_.term_gradients.call_into(fns_.error, "term_gradients", out.data(), {width, d_}, x, width, d_,
                                    fns_.term_gradients.argument(1, terms, {width}),
                                    fns_.term_gradients.argument(0, x, {width, d_}));
    }
    for (long j = 0; j < n; ++j) g[j] += out[j];
  }

 private:
  Vector p_;
  bool uniform_ = false;
};

// A drift b from a batched Python function: drift(x (w, d)) or, time-dependent, drift(x (w, d), t (w,)) ->
// (w, d).
class PythonDrift final : public DriftField {
 public:
  PythonDrift(int dim, std::string name, Callback fn, bool time_dependent, py::object error)
      : d_(dim), name_(std::move(name)), fn_(std::move(fn)), td_(time_dependent), error_(std::move(error)) {
    require(dim >= 1, "dim", dim, "a positive integer");
  }
  ~PythonDrift() override {
    py::gil_scoped_acquire gil;
    fn_ = {};
    error_ = py::object();
  }
  int dim() const override { return d_; }
  std::string name() const override { return name_; }
  bool time_dependent() const override { return td_; }
  bool keep_blocks_dense() const override { return true; }
  void field(const double* x, const double* t, double* b, int width) const override {
    py::gil_scoped_acquire gil;
    if (td_)
      fn_.call_into(error_, "drift", b, {width, d_}, x, width, d_, fn_.argument(0, x, {width, d_}),
                    fn_.argument(1, t, {width}));
    else
      fn_.call_into(error_, "drift", b, {width, d_}, x, width, d_, fn_.argument(0, x, {width, d_}));
  }

 private:
  int d_;
  std::string name_;
  Callback fn_;
  bool td_;
  py::object error_;
};

// A noise factor S from a batched Python function: S(x (w, d)) -> (w, d, k). dim 0: any dimension; noise_dim 0:
// k = d.
class PythonDiffusion final : public DiffusionField {
 public:
  PythonDiffusion(int dim, int k, std::string name, Callback fn, py::object error)
      : d_(dim), k_(k), name_(std::move(name)), fn_(std::move(fn)), error_(std::move(error)) {
    require(dim >= 0, "dim", dim, ">= 0 (0: any)");
    require(k >= 0, "noise_dim", k, ">= 0 (0: the dimension)");
  }
  ~PythonDiffusion() override {
    py::gil_scoped_acquire gil;
    fn_ = {};
    error_ = py::object();
  }
  int dim() const override { return d_; }
  int noise_dim(int d) const override { return k_ > 0 ? k_ : d; }
  std::string name() const override { return name_; }
  void factor(const double* x, double* S, int d, int width) const override {
    const int k = noise_dim(d);
    {
      py::gil_scoped_acquire gil;
      fn_.call_into(error_, "S", S, {width, d, k}, x, width, d, fn_.argument(0, x, {width, d}));
    }
    check_finite(x, S, d, k, width);
  }

 private:
  int d_, k_;
  std::string name_;
  Callback fn_;
  py::object error_;
};

Callback callback(py::object fn, py::object name) {
  return {std::move(fn), name.is_none() ? std::string() : name.cast<std::string>()};
}

template <class F>
F as_function(std::uintptr_t address) {
  return reinterpret_cast<F>(address);  // 0 = not given
}

}  // namespace

void bind_callbacks(py::module_& m) {
  // A compiled callback's failure is escapade's CallbackError (defined in Python: escapade.custom).
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const CallbackFailure& e) {
      const py::object error = py::module_::import("escapade.custom").attr("CallbackError");
      PyErr_SetString(error.ptr(), e.what());
    }
  });
  // For escapade's numba wrappers: the address of escapade_callback_error(lane), and the mark it left on this
  // thread (cleared; None when there is none), read after a call made from Python.
  m.def("callback_error_address", [] { return reinterpret_cast<std::uintptr_t>(&escapade_callback_error); });
  m.def("take_callback_error", []() -> py::object {
    detail::CallbackErrorMark& mark = detail::callback_error_mark();
    if (!mark.failed) return py::none();
    const std::int64_t lane = mark.lane;
    mark = {};
    return py::int_(lane);
  });
  py::class_<CompiledLandscape, Landscape, std::shared_ptr<CompiledLandscape>>(m, "CompiledLandscape")
      .def(py::init([](int dim, std::string name, std::uintptr_t gradient, std::uintptr_t value, std::uintptr_t hessian) {
             return std::make_shared<CompiledLandscape>(
                 dim, CompiledFunctions{std::move(name), as_function<GradientFn>(gradient), as_function<ValueFn>(value),
                                        as_function<HessianFn>(hessian), nullptr});
           }),
           py::kw_only(), "dim"_a, "name"_a, "gradient"_a, "value"_a = 0, "hessian"_a = 0,
           "Function addresses with the C signatures of escapade/compiled.hpp (0 = not given).");
  py::class_<CompiledFiniteSum, FiniteSum, std::shared_ptr<CompiledFiniteSum>>(m, "CompiledFiniteSum")
      .def(py::init([](int dim, std::string name, std::uintptr_t term_gradient, const DoubleArray& p,
                       std::uintptr_t gradient, std::uintptr_t value, std::uintptr_t hessian) {
             return std::make_shared<CompiledFiniteSum>(
                 dim,
                 CompiledFunctions{std::move(name), as_function<GradientFn>(gradient), as_function<ValueFn>(value),
                                   as_function<HessianFn>(hessian), as_function<TermGradientFn>(term_gradient)},
                 to_vector(p, "p"));
           }),
           py::kw_only(), "dim"_a, "name"_a, "term_gradient"_a, "p"_a, "gradient"_a = 0, "value"_a = 0,
           "hessian"_a = 0);
  py::class_<CompiledConstraint, Constraint, std::shared_ptr<CompiledConstraint>>(m, "CompiledConstraint")
      .def(py::init([](int dim, int n_constraints, std::string name, std::uintptr_t value, std::uintptr_t jacobian) {
             return std::make_shared<CompiledConstraint>(dim, n_constraints, std::move(name),
                                                         as_function<ConstraintValueFn>(value),
                                                         as_function<ConstraintJacobianFn>(jacobian));
           }),
           py::kw_only(), "dim"_a, "n_constraints"_a, "name"_a, "value"_a, "jacobian"_a);
  py::class_<CompiledForcing, Forcing, std::shared_ptr<CompiledForcing>>(m, "CompiledForcing")
      .def(py::init([](int dim, std::string name, std::uintptr_t forcing) {
             return std::make_shared<CompiledForcing>(dim, std::move(name), as_function<ForcingFn>(forcing));
           }),
           py::kw_only(), "dim"_a, "name"_a, "forcing"_a);
  py::class_<CompiledDrift, DriftField, std::shared_ptr<CompiledDrift>>(m, "CompiledDrift")
      .def(py::init([](int dim, std::string name, std::uintptr_t drift, bool time_dependent) {
             return std::make_shared<CompiledDrift>(dim, std::move(name), as_function<DriftFn>(drift), time_dependent);
           }),
           py::kw_only(), "dim"_a, "name"_a, "drift"_a, "time_dependent"_a);
  py::class_<CompiledDiffusion, DiffusionField, std::shared_ptr<CompiledDiffusion>>(m, "CompiledDiffusion")
      .def(py::init([](int dim, int noise_dim, std::string name, std::uintptr_t S) {
             return std::make_shared<CompiledDiffusion>(dim, noise_dim, std::move(name), as_function<DiffusionFn>(S));
           }),
           py::kw_only(), "dim"_a, "noise_dim"_a, "name"_a, "S"_a);
  py::class_<PythonDrift, DriftField, std::shared_ptr<PythonDrift>>(m, "PythonDrift")
      .def(py::init([](int dim, std::string name, py::object fn, bool time_dependent, py::object error) {
             Callback cb{std::move(fn), name};
             return std::make_shared<PythonDrift>(dim, std::move(name), std::move(cb), time_dependent,
                                                  std::move(error));
           }),
           py::kw_only(), "dim"_a, "name"_a, "drift"_a, "time_dependent"_a, "error"_a);
  py::class_<PythonDiffusion, DiffusionField, std::shared_ptr<PythonDiffusion>>(m, "PythonDiffusion")
      .def(py::init([](int dim, int noise_dim, std::string name, py::object fn, py::object error) {
             Callback cb{std::move(fn), name};
             return std::make_shared<PythonDiffusion>(dim, noise_dim, std::move(name), std::move(cb), std::move(error));
           }),
           py::kw_only(), "dim"_a, "noise_dim"_a, "name"_a, "S"_a, "error"_a);
  // Callbacks are (function or None, name or None) pairs; `error` is the exception type they raise.
  using Pair = std::pair<py::object, py::object>;
  py::class_<PythonLandscape, Landscape, std::shared_ptr<PythonLandscape>>(m, "PythonLandscape")
      .def(py::init([](int dim, std::string name, Pair gradient, Pair value, Pair hessian, py::object error) {
             return std::make_shared<PythonLandscape>(
                 dim, PythonFunctions{std::move(name), callback(gradient.first, gradient.second),
                                      callback(value.first, value.second), callback(hessian.first, hessian.second),
                                      callback(py::none(), py::none()), std::move(error)});
           }),
           py::kw_only(), "dim"_a, "name"_a, "gradient"_a, "value"_a, "hessian"_a, "error"_a);
  py::class_<PythonFiniteSum, FiniteSum, std::shared_ptr<PythonFiniteSum>>(m, "PythonFiniteSum")
      .def(py::init([](int dim, std::string name, Pair term_gradients, const DoubleArray& p, Pair gradient, Pair value,
                       Pair hessian, py::object error) {
             return std::make_shared<PythonFiniteSum>(
                 dim,
                 PythonFunctions{std::move(name), callback(gradient.first, gradient.second),
                                 callback(value.first, value.second), callback(hessian.first, hessian.second),
                                 callback(term_gradients.first, term_gradients.second), std::move(error)},
                 to_vector(p, "p"));
           }),
           py::kw_only(), "dim"_a, "name"_a, "term_gradients"_a, "p"_a, "gradient"_a, "value"_a, "hessian"_a,
           "error"_a);
}
