#include <pybind11/stl.h>

#include "escapade/kernels.hpp"
#include "escapade/rng.hpp"
#include "numpy.hpp"

using namespace escapade;
using namespace escapade::py_glue;

void bind_random(py::module_& m) {
  m.def(
      "philox4x32_10",
      [](std::array<std::uint32_t, 4> counter, std::array<std::uint32_t, 2> key) { return philox4x32_10(counter, key); },
      py::arg("counter"), py::arg("key"), "The Philox4x32-10 bijection: four 32-bit words from a counter and a key.");
  m.def(
      "step_draws",
      [](std::uint64_t seed, py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast> paths,
         std::uint64_t step, int k) {
        if (paths.ndim() != 1) throw std::invalid_argument("paths must be 1-dimensional");
        if (k < 1) throw std::invalid_argument("k must be >= 1, got " + std::to_string(k));
        const int n = static_cast<int>(paths.shape(0));
        const std::vector<std::uint64_t> steps(n, step);
        std::vector<double> z[QuadDraws::kSteps], u[QuadDraws::kSteps];
        double *zp[QuadDraws::kSteps], *up[QuadDraws::kSteps];
        for (int s = 0; s < QuadDraws::kSteps; ++s) {
          z[s].resize(static_cast<std::size_t>(n) * k);
          u[s].resize(n);
          zp[s] = z[s].data();
          up[s] = u[s].data();
        }
        QuadDraws().draw(seed, paths.data(), steps.data(), n, k, zp, up);
        const auto s = static_cast<std::size_t>(step % QuadDraws::kSteps);
        return py::make_tuple(to_numpy(std::move(z[s]), {n, k}), to_numpy(std::move(u[s]), {n}));
      },
      py::arg("seed"), py::arg("paths"), py::arg("step"), py::arg("k"),
      "The normals (n, k) and the crossing-test uniform (n,) that the engine draws for these paths at one step.");
  m.def(
      "crossing_draws",
      [](std::uint64_t seed, py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast> paths,
         std::uint64_t step) {
        if (paths.ndim() != 1) throw std::invalid_argument("paths must be 1-dimensional");
        const auto n = static_cast<std::size_t>(paths.shape(0));
        std::vector<double> z(n), u(n), face(n);
        for (std::size_t i = 0; i < n; ++i) {
          const Words4 w = crossing_words(seed, paths.data()[i], step);
          double unused;
          box_muller(w[0], w[1], z[i], unused);
          u[i] = open_uniform(w[2]);
          face[i] = open_uniform(w[3]);
        }
        const auto m = static_cast<py::ssize_t>(n);
        return py::make_tuple(to_numpy(std::move(z), {m}), to_numpy(std::move(u), {m}), to_numpy(std::move(face), {m}));
      },
      py::arg("seed"), py::arg("paths"), py::arg("step"),
      "The normal (n,), root uniform (n,) and face uniform (n,) that locate a crossing in step `step` (0-based) of "
      "these paths.");
  m.def(
      "elementary",
      [](const std::string& name, py::array_t<double, py::array::c_style | py::array::forcecast> x) {
        const long n = static_cast<long>(x.size());
        std::vector<double> a(static_cast<std::size_t>(n)), b(a.size());
        if (name == "exp")
          for (long i = 0; i < n; ++i) a[i] = mathfn::exp(x.data()[i]);
        else if (name == "sincos")
          mathfn::sincos(x.data(), a.data(), b.data(), n);
        else
          throw std::invalid_argument("name must be 'exp' or 'sincos', got '" + name + "'");
        std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
        if (name == "exp") return py::object(to_numpy(std::move(a), shape));
        return py::object(py::make_tuple(to_numpy(std::move(a), shape), to_numpy(std::move(b), shape)));
      },
      py::arg("name"), py::arg("x"),
      "escapade's own exp (name='exp') or (cos, sin) (name='sincos') of an array, as landscapes and forcings use them.");
  m.def(
      "fixed_order_matmul",
      [](py::array_t<double, py::array::f_style | py::array::forcecast> a,
         py::array_t<double, py::array::c_style | py::array::forcecast> b, const std::string& tiles) {
        if (a.ndim() != 2 || a.shape(0) < 1 || a.shape(1) < 1)
          throw std::invalid_argument("a must be a non-empty 2-dimensional array");
        if (b.ndim() != 2 || b.shape(0) < 1 || b.shape(1) != a.shape(1))
          throw std::invalid_argument("b must have shape (width, a.shape[1]) with width >= 1");
        const int m = static_cast<int>(a.shape(0)), K = static_cast<int>(a.shape(1));
        const int width = static_cast<int>(b.shape(0));
        const PaddedMatrix A(Eigen::Map<const Matrix>(a.data(), m, K));
        std::vector<double> c(static_cast<std::size_t>(m) * width);
        const detail::StoreProduct out;
        if (tiles == "auto")
          fixed_order_matmul(A, b.data(), width, c.data());
        else if (tiles == "16x12")
          detail::matmul_tiles<detail::Vec8, 2, 12>(A, b.data(), width, c.data(), out);
        else if (tiles == "16x6")
          detail::matmul_tiles<detail::Vec4, 4, 6>(A, b.data(), width, c.data(), out);
        else if (tiles == "8x6")
          detail::matmul_tiles<detail::Vec4, 2, 6>(A, b.data(), width, c.data(), out);
        else if (tiles == "4x4")
          detail::matmul_tiles<detail::Vec4, 1, 4>(A, b.data(), width, c.data(), out);
        else
          throw std::invalid_argument("tiles must be 'auto', '16x12', '16x6', '8x6' or '4x4', got '" + tiles + "'");
        return to_numpy(std::move(c), {width, m});
      },
      py::arg("a"), py::arg("b"), py::arg("tiles") = "auto",
      "The fixed-order product of the engine's kernels, row l of the result = a @ b[l] with every entry summed in k "
      "order from 0.0 (the bits of a plain loop), in the given register tiling (rows x lanes; 'auto': this CPU's). "
      "Every tiling runs on every CPU (a test checks all of them wherever it runs).");
}
