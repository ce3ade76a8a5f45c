// User landscapes, constraints and forcings: compiled callbacks (C function pointers, e.g. numba cfuncs) called without the GIL, and
// batched Python callbacks called with the GIL once per block-step on a whole block of lanes.
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <type_traits>

#include "escapade/compiled.hpp"
#include "numpy.hpp"

using namespace escapade;
using namespace escapade::py_glue;
using namespace pybind11::literals;

namespace {

// A numpy view of engine memory, valid only during the call it is passed to.
template <class T>
py::array_t<T> view(const T* data, std::vector<py::ssize_t> shape) {
  return py::array_t<T>(shape, data, py::capsule(data, [](void*) {}));
}

// Python callables (escapade's wrappers around the user's functions, which check shapes and values):
//   gradient(x (w, d), out (w, d)), value(x (d,)) -> float, hessian(x (d,), out (d, d)),
//   term_gradients(terms (w,), x (w, d), out (w, d)) with out[l] = grad f_{terms[l]}(x[l]).
// A Python exception propagates out of the worker thread and is re-raised by `run` on the calling thread.
struct PythonFunctions {
  std::string name;
  py::object gradient, value, hessian, term_gradients;
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
  double value(const double* x) const override {
    py::gil_scoped_acquire gil;
    require(!fns_.value.is_none(), fns_.name + " has no value callback (pass value= to evaluate f)");
    return fns_.value(view(x, {d_})).template cast<double>();
  }
  void gradient(const double* x, double* g, int width) const override {
    if constexpr (std::is_base_of_v<FiniteSum, Base>) {
      if (fns_.gradient.is_none()) return FiniteSum::gradient(x, g, width);
    }
    py::gil_scoped_acquire gil;
    fns_.gradient(view(x, {width, d_}), view(g, {width, d_}));
  }
  void hessian(const double* x, double* H) const override {
    py::gil_scoped_acquire gil;
    require(!fns_.hessian.is_none(), fns_.name + " has no hessian callback (pass hessian= to evaluate it)");
    fns_.hessian(view(x, {d_}), view(H, {d_, d_}));
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
    out.assign(static_cast<std::size_t>(n), 0.0);
    {
      py::gil_scoped_acquire gil;
      fns_.term_gradients(view(terms, {width}), view(x, {width, d_}), view(out.data(), {width, d_}));
    }
    for (long j = 0; j < n; ++j) g[j] += out[j];
  }

 private:
  Vector p_;
  bool uniform_ = false;
};

template <class F>
F as_function(std::uintptr_t address) {
  return reinterpret_cast<F>(address);  // 0 = not given
}

}  // namespace

void bind_callbacks(py::module_& m) {
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
  py::class_<PythonLandscape, Landscape, std::shared_ptr<PythonLandscape>>(m, "PythonLandscape")
      .def(py::init([](int dim, std::string name, py::object gradient, py::object value, py::object hessian) {
             return std::make_shared<PythonLandscape>(
                 dim, PythonFunctions{std::move(name), std::move(gradient), std::move(value), std::move(hessian),
                                      py::none()});
           }),
           py::kw_only(), "dim"_a, "name"_a, "gradient"_a, "value"_a = py::none(), "hessian"_a = py::none());
  py::class_<PythonFiniteSum, FiniteSum, std::shared_ptr<PythonFiniteSum>>(m, "PythonFiniteSum")
      .def(py::init([](int dim, std::string name, py::object term_gradients, const DoubleArray& p, py::object gradient,
                       py::object value, py::object hessian) {
             return std::make_shared<PythonFiniteSum>(
                 dim,
                 PythonFunctions{std::move(name), std::move(gradient), std::move(value), std::move(hessian),
                                 std::move(term_gradients)},
                 to_vector(p, "p"));
           }),
           py::kw_only(), "dim"_a, "name"_a, "term_gradients"_a, "p"_a, "gradient"_a = py::none(),
           "value"_a = py::none(), "hessian"_a = py::none());
}
