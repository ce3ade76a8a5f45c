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

// Rows [i0, i0 + w V) of C[:, l0 .. l0 + NL) = A B, w = the vector width Vec holds (8 or 4 doubles), handed to
// out_op (StoreProduct: stored as they are); rows past m are computed (from A's zero padding) but not stored.
template <class Vec, int V, int NL, class Out>
inline void matmul_tile(const double* __restrict A, int lda, int m, int K, const double* __restrict B,
                        double* __restrict C, int i0, int l0, const Out& out_op) {
  constexpr int w = static_cast<int>(sizeof(Vec) / sizeof(double));
  Vec acc[NL][V];
  for (int l = 0; l < NL; ++l) out_op.prefetch(static_cast<long>(l0 + l) * m + i0, w * V);
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
    const long o = static_cast<long>(l0 + l) * m + i0;
    if (h == w * V) {  // a whole tile: vector stores (not a call to memcpy)
      for (int v = 0; v < V; ++v) out_op.store(acc[l][v], l0 + l, o + w * v, C);
      continue;
    }
    double out[w * V];
    std::memcpy(out, acc[l], sizeof out);
    for (int i = 0; i < h; ++i) out_op.store1(out[i], l0 + l, o + i, C);
  }
}

// What a tile does with its entries: C[o] = the entry.
struct StoreProduct {
  template <class Vec>
  void store(const Vec& v, int, long o, double* C) const {
    std::memcpy(C + o, &v, sizeof v);
  }
  void store1(double v, int, long o, double* C) const { C[o] = v; }
  void prefetch(long, int) const {}
};

// The Gaussian SGD step on the product's entries while they are in registers: C[o] = (x[o] - a_l g[o]) + b_l P[o]
// for the entry P[o] of lane l's column, the bits of that expression evaluated after the product is stored.
struct StepOnProduct {
  const double *x, *g, *a, *b;
  template <class Vec>
  void store(const Vec& p, int l, long o, double* C) const {
    Vec xv, gv;
    std::memcpy(&xv, x + o, sizeof xv);
    std::memcpy(&gv, g + o, sizeof gv);
    const Vec r = (xv - a[l] * gv) + b[l] * p;
    std::memcpy(C + o, &r, sizeof r);
  }
  void store1(double p, int l, long o, double* C) const { C[o] = (x[o] - a[l] * g[o]) + b[l] * p; }
  // x and g of the tile's entries, fetched while the tile computes (the block's columns are past L1 by then).
  void prefetch(long o, int n) const {
    for (int i = 0; i < n; i += 8) {
      __builtin_prefetch(x + o + i);
      __builtin_prefetch(g + o + i);
    }
  }
};

// Whether this CPU runs a 512-bit broadcast (B's entry copied to every element of a vector) on its floating-point
// pipes, taken as: it is AMD's. Zen 4 does (measured: with the broadcasts hoisted out of the loop, the tiles reach
// the peak), and there 256-bit tiles of 16 rows x 6 lanes run a 100 x 100 product on 64 lanes at 52 GFLOP/s of a 57
// peak (16 x 12 in 512-bit vectors: 38.6; 48 x 4: 44.7); Zen 5, whose vector units are 512 bits wide, is not
// measured. Intel's load ports broadcast at no cost to the arithmetic, and 512-bit 16 x 12 tiles measured best there
// (52-54). Each entry's sum is the same in every tiling, so the choice never changes a bit.
inline bool broadcasts_use_fp_pipes() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool amd = [] {
    __builtin_cpu_init();  // idempotent; needed where this could run before libgcc's own initializer
    return __builtin_cpu_is("amd") != 0;
  }();
  return amd;
#else
  return false;
#endif
}

// Rows in tiles of w V (Vec holding w doubles), then the rows left: in 512-bit tiles, 8 (or 4 when at most 4 rows
// are left: m = 100 is 96 + 4, not 96 + 8); in 256-bit ones, 4 at a time.
template <class Vec, int V, int NL, class Out>
inline void matmul_lanes(const double* A, int lda, int m, int K, const double* B, double* C, int l0,
                         const Out& out) {
  constexpr int w = static_cast<int>(sizeof(Vec) / sizeof(double)), rows = w * V;
  int i0 = 0;
  for (; i0 + rows <= lda && i0 < m; i0 += rows) matmul_tile<Vec, V, NL>(A, lda, m, K, B, C, i0, l0, out);
  if constexpr (w == 8) {
    if (i0 < lda) {
      if (m - i0 <= 4)
        matmul_tile<Vec4, 1, NL>(A, lda, m, K, B, C, i0, l0, out);
      else
        matmul_tile<Vec8, 1, NL>(A, lda, m, K, B, C, i0, l0, out);
    }
  } else {
    for (; i0 < m; i0 += 4) matmul_tile<Vec4, 1, NL>(A, lda, m, K, B, C, i0, l0, out);
  }
}

// Lanes NL at a time, then 4 at a time, then one by one. Not inlined: each tiling compiles as a function of its
// own (inlined side by side into one caller, the 256-bit tiles ran at 34 GFLOP/s instead of 52).
template <class Vec, int V, int NL, class Out>
[[gnu::noinline]] void matmul_tiles(const PaddedMatrix& A, const double* B, int width, double* C, const Out& out) {
  int l0 = 0;
  for (; l0 + NL <= width; l0 += NL) matmul_lanes<Vec, V, NL>(A.data.data(), A.ld, A.rows, A.cols, B, C, l0, out);
  for (; l0 + 4 <= width; l0 += 4) matmul_lanes<Vec, V, 4>(A.data.data(), A.ld, A.rows, A.cols, B, C, l0, out);
  for (; l0 < width; ++l0) matmul_lanes<Vec, V, 1>(A.data.data(), A.ld, A.rows, A.cols, B, C, l0, out);
}

// With AVX-512 (32 vector registers): 16-row tiles of A meeting 12 lanes' columns in 512-bit vectors (24
// accumulators: 2 loads of A and 12 broadcasts per 48 floating-point operations), or where broadcasts take the
// arithmetic's pipes, 6 lanes' in 256-bit vectors (24 accumulators: 4 loads and 6 broadcasts per 48). With 16
// registers, the tiles must leave room for A's vectors and a broadcast: 8 x 6 in 256-bit vectors with AVX2 (12
// accumulators), 4 x 4 without (SSE: a 256-bit vector is two registers). Measured on Zen 4 (a 100 x 100 product on
// 64 lanes), the portable build's x86-64-v3 module ran at 1.0 GFLOP/s with the 16 x 12 tiles of 512-bit vectors
// (emulated in pairs of registers, spilled) and 49 with 8 x 6; its x86-64-v2 module at 1.5 and 6.9 with 4 x 4.
template <class Out>
inline void matmul_blocks(const PaddedMatrix& A, const double* B, int width, double* C, const Out& out) {
#if defined(__AVX512F__)
  if (broadcasts_use_fp_pipes())
    matmul_tiles<Vec4, 4, 6>(A, B, width, C, out);
  else
    matmul_tiles<Vec8, 2, 12>(A, B, width, C, out);
#elif defined(__AVX2__)
  matmul_tiles<Vec4, 2, 6>(A, B, width, C, out);
#else
  matmul_tiles<Vec4, 1, 4>(A, B, width, C, out);
#endif
}

// Eight lanes' runs of eight doubles (lane q's at p + q * stride) turned into eight vectors over the lanes:
// col[j][q] = p[q * stride + j]. Three rounds of two-source shuffles (24 in all), each value moved, not computed.
inline void transpose8(const double* p, long stride, Vec8 col[8]) {
  typedef long long Idx8 __attribute__((vector_size(64)));
  Vec8 r[8], t[8];
  for (int q = 0; q < 8; ++q) r[q] = load8(p + q * stride);
  for (int q = 0; q < 8; q += 2) {
    t[q] = __builtin_shuffle(r[q], r[q + 1], Idx8{0, 8, 2, 10, 4, 12, 6, 14});
    t[q + 1] = __builtin_shuffle(r[q], r[q + 1], Idx8{1, 9, 3, 11, 5, 13, 7, 15});
  }
  for (int g = 0; g < 8; g += 4) {  // r[g..g+3] -> columns (0, 4), (2, 6), (1, 5), (3, 7) of rows g..g+3
    r[g] = __builtin_shuffle(t[g], t[g + 2], Idx8{0, 1, 8, 9, 4, 5, 12, 13});
    r[g + 1] = __builtin_shuffle(t[g], t[g + 2], Idx8{2, 3, 10, 11, 6, 7, 14, 15});
    r[g + 2] = __builtin_shuffle(t[g + 1], t[g + 3], Idx8{0, 1, 8, 9, 4, 5, 12, 13});
    r[g + 3] = __builtin_shuffle(t[g + 1], t[g + 3], Idx8{2, 3, 10, 11, 6, 7, 14, 15});
  }
  const int first[4] = {0, 2, 1, 3};  // the column held in the low half of r[g], r[g + 1], r[g + 2], r[g + 3]
  for (int h = 0; h < 4; ++h) {
    col[first[h]] = __builtin_shuffle(r[h], r[h + 4], Idx8{0, 1, 2, 3, 8, 9, 10, 11});
    col[first[h] + 4] = __builtin_shuffle(r[h], r[h + 4], Idx8{4, 5, 6, 7, 12, 13, 14, 15});
  }
}

}  // namespace detail

// C = A B for A (rows x cols, padded), B cols x width, C rows x width, column-major; C must not overlap B.
// Every entry is summed in k order starting from 0.0, so column l of C is a function of column l of B alone,
// with the bits of the plain loop `s = 0; for k: s += A(i, k) * B(k, l)`.
// Register tiles of rows of A meeting several lanes' columns (matmul_blocks).
inline void fixed_order_matmul(const PaddedMatrix& A, const double* B, int width, double* C) {
  detail::matmul_blocks(A, B, width, C, detail::StoreProduct{});
}

// x_next[:, l] = (x[:, l] - a[l] g[:, l]) + b[l] (A B)[:, l], the product's entries (fixed_order_matmul's bits)
// used while still in registers: one pass over the block instead of the product's store and a second pass.
// x_next must not overlap B, x or g.
inline void fixed_order_matmul_step(const PaddedMatrix& A, const double* B, int width, const double* x,
                                    const double* g, const double* a, const double* b, double* x_next) {
  detail::matmul_blocks(A, B, width, x_next, detail::StepOnProduct{x, g, a, b});
}

}  // namespace escapade
