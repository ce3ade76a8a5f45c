// numpy <-> Eigen helpers for the bindings.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "escapade/types.hpp"

namespace escapade::py_glue {

namespace py = pybind11;
using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

// Hand a vector's buffer to numpy without copying; the capsule owns it.
template <class T>
py::array_t<T> to_numpy(std::vector<T>&& v, std::vector<py::ssize_t> shape) {
  auto* owned = new std::vector<T>(std::move(v));
  py::capsule owner(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(shape, owned->data(), owner);
}

inline Vector to_vector(const DoubleArray& a, const char* name) {
  if (a.ndim() != 1) throw std::invalid_argument(std::string(name) + " must be 1-dimensional");
  return Eigen::Map<const Vector>(a.data(), a.shape(0));
}

// A C-ordered (rows, cols) array as an Eigen matrix with the same (rows, cols).
inline Matrix to_matrix(const DoubleArray& a, const char* name) {
  if (a.ndim() != 2) throw std::invalid_argument(std::string(name) + " must be 2-dimensional");
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  return Eigen::Map<const RowMajor>(a.data(), a.shape(0), a.shape(1));
}

// Points as an (n, d) array, or one point as a (d,) array.
inline Matrix points_of(const DoubleArray& x, int d, const char* name) {
  if (x.ndim() == 1 && x.shape(0) == d) return Eigen::Map<const Vector>(x.data(), d);
  if (x.ndim() == 2 && x.shape(1) == d) return Eigen::Map<const Matrix>(x.data(), d, x.shape(0));
  throw std::invalid_argument(std::string(name) + " must have shape (" + std::to_string(d) + ",) or (n, " +
                              std::to_string(d) + ")");
}

inline py::array_t<double> vector_to_numpy(const Vector& v) {
  return to_numpy(std::vector<double>(v.data(), v.data() + v.size()), {static_cast<py::ssize_t>(v.size())});
}

}  // namespace escapade::py_glue
