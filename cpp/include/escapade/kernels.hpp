// Dense kernels over a block of lanes whose per-lane results do not depend on the block width.
//
// A blocked GEMM (Eigen's, BLAS) may change the order in which it sums the k terms of an entry with the shape
// of the product, so a lane's bits could depend on how many lanes share its block. fixed_order_matmul sums
// every entry as ((0 + a_0 b_0) + a_1 b_1) + ... in k order, with separate multiplies and adds
// (-ffp-contract=off), exactly what a plain per-lane loop gives, and still runs as a register-blocked
// matrix-matrix product: a tile of rows of A stays in vector registers while it meets several lanes' columns.
#pragma once

#include <cstdint>
#include <cstring>

#include "escapade/types.hpp"

namespace escapade {

// A column-major matrix whose leading dimension is rounded up to a multiple of 8 rows, the padding zero, so the
// kernels read whole 8-row vectors in every column.
struct PaddedMatrix {
  int rows = 0, cols = 0, ld = 0;
  Matrix data;  // ld x cols
  PaddedMatrix() = default;
  explicit PaddedMatrix(const Matrix& a)
      : rows(static_cast<int>(a.rows())), cols(static_cast<int>(a.cols())), ld((rows + 7) / 8 * 8),
        data(Matrix::Zero(ld, cols)) {
    data.topRows(rows) = a;
  }
};

namespace detail {

typedef double Vec8 __attribute__((vector_size(64)));

// The first 64-byte aligned address at or after p (a buffer with 8 doubles to spare holds its data from there):
// 8-double vectors that straddle two cache lines cost two accesses.
template <class T>
inline T* align64(T* p) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  return reinterpret_cast<T*>((a + 63) & ~static_cast<std::uintptr_t>(63));
}

inline Vec8 load8(const double* p) {
  Vec8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

typedef double Vec4 __attribute__((vector_size(32)));

// Rows [i0, i0 + w V) of C[:, l0 .. l0 + NL) = A B, w = the vector width Vec holds (8 or 4 doubles); rows past m
// are computed (from A's zero padding) but not stored.
template <class Vec, int V, int NL>
inline void matmul_tile(const double* __restrict A, int lda, int m, int K, const double* __restrict B,
                        double* __restrict C, int i0, int l0) {
  constexpr int w = static_cast<int>(sizeof(Vec) / sizeof(double));
  Vec acc[NL][V];
  for (int l = 0; l < NL; ++l)
    for (int v = 0; v < V; ++v) acc[l][v] = Vec{} * 0.0;
  for (int k = 0; k < K; ++k) {
    const double* a = A + static_cast<long>(k) * lda + i0;
    Vec av[V];
    for (int v = 0; v < V; ++v) std::memcpy(&av[v], a + w * v, sizeof(Vec));
    for (int l = 0; l < NL; ++l) {
      const double b = B[static_cast<long>(l0 + l) * K + k];
      for (int v = 0; v < V; ++v) acc[l][v] = acc[l][v] + av[v] * b;
    }
  }
  const int h = m - i0 < w * V ? m - i0 : w * V;
  for (int l = 0; l < NL; ++l) {
    double* c = C + static_cast<long>(l0 + l) * m + i0;
    if (h == w * V) {  // a whole tile: a fixed-size copy, inlined as vector stores (not a call to memcpy)
      std::memcpy(c, acc[l], sizeof(double) * w * V);
      continue;
    }
    double out[w * V];
    std::memcpy(out, acc[l], sizeof out);
    for (int i = 0; i < h; ++i) c[i] = out[i];
  }
}

// Rows in tiles of 16, then 8, and a last tile of 4 when at most 4 rows are left (m = 100: 96 + 4, not 96 + 8).
template <int NL>
inline void matmul_lanes(const double* A, int lda, int m, int K, const double* B, double* C, int l0) {
  int i0 = 0;
  for (; i0 + 16 <= lda; i0 += 16) matmul_tile<Vec8, 2, NL>(A, lda, m, K, B, C, i0, l0);
  if (i0 < lda) {
    if (m - i0 <= 4)
      matmul_tile<Vec4, 1, NL>(A, lda, m, K, B, C, i0, l0);
    else
      matmul_tile<Vec8, 1, NL>(A, lda, m, K, B, C, i0, l0);
  }
}

}  // namespace detail

// C = A B for A (rows x cols, padded), B cols x width, C rows x width, column-major; C must not overlap B.
// Every entry is summed in k order starting from 0.0, so column l of C is a function of column l of B alone,
// with the bits of the plain loop `s = 0; for k: s += A(i, k) * B(k, l)`.
// Lanes go 12 at a time (a 16-row tile of A meets 12 lanes' columns: 24 accumulators, 2 loads of A and 12
// broadcasts per 48 floating-point operations), then 4 at a time, then one by one.
inline void fixed_order_matmul(const PaddedMatrix& A, const double* B, int width, double* C) {
  int l0 = 0;
  for (; l0 + 12 <= width; l0 += 12) detail::matmul_lanes<12>(A.data.data(), A.ld, A.rows, A.cols, B, C, l0);
  for (; l0 + 4 <= width; l0 += 4) detail::matmul_lanes<4>(A.data.data(), A.ld, A.rows, A.cols, B, C, l0);
  for (; l0 < width; ++l0) detail::matmul_lanes<1>(A.data.data(), A.ld, A.rows, A.cols, B, C, l0);
}

}  // namespace escapade
