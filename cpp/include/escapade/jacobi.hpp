// The eigendecomposition of a small symmetric matrix by cyclic Jacobi rotations, and the few other dense routines whose
// results reach a path's numbers (Cholesky, a triangular inverse, products), in plain scalar arithmetic.
//
// Eigen's SelfAdjointEigenSolver and its matrix products call FMA intrinsics wherever the instruction set has them
// (x86-64-v3 and up) whatever -ffp-contract says, and sum with the vector width of the level, so their last bits
// depend on the CPU a portable build runs on. This routine uses only separate multiplies, adds, divides and square
// roots in a fixed order (IEEE operations, no libm, contraction off), so it gives the same bits at every level and
// in a -march=native build.
#pragma once

#include <cmath>
#include <utility>

namespace escapade {

// A (d x d, column-major, symmetric, overwritten) = V diag(w) V^T: on return the diagonal of `a` holds w and the
// columns of `v` (d x d, column-major) the orthonormal eigenvectors, in no particular order. Rotations follow the
// classical cyclic Jacobi method (Golub and Van Loan, Matrix Computations, 8.5): each zeroes one off-diagonal pair,
// a sweep visits every pair once in row order; converged when a sweep finds every off-diagonal entry negligible
// next to both diagonal entries it couples (quadratic convergence: a handful of sweeps at double precision).
inline void jacobi_eigen(double* a, double* v, int d) {
  const auto at = [d](double* m, int i, int j) -> double& { return m[i + static_cast<long>(j) * d]; };
  for (int j = 0; j < d; ++j)
    for (int i = 0; i < d; ++i) at(v, i, j) = i == j ? 1.0 : 0.0;
  for (int sweep = 0; sweep < 64; ++sweep) {
    bool rotated = false;
    for (int p = 0; p < d - 1; ++p) {
      for (int q = p + 1; q < d; ++q) {
        const double apq = at(a, p, q);
        if (apq == 0.0) continue;
        const double app = at(a, p, p), aqq = at(a, q, q), g = 100.0 * std::abs(apq);
        if (std::abs(app) + g == std::abs(app) && std::abs(aqq) + g == std::abs(aqq)) {
          at(a, p, q) = at(a, q, p) = 0.0;  // below the last bit of both diagonal entries
          continue;
        }
        rotated = true;
        // t = tan of the rotation angle, the smaller root of t^2 + 2 theta t - 1 = 0, theta = (aqq - app) / (2 apq).
        const double h = aqq - app;
        double t;
        if (std::abs(h) + g == std::abs(h)) {
          t = apq / h;  // theta^2 would overflow: t = 1 / (2 theta)
        } else {
          const double theta = 0.5 * h / apq;
          t = 1.0 / (std::abs(theta) + std::sqrt(theta * theta + 1.0));
          if (theta < 0.0) t = -t;
        }
        const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
        for (int r = 0; r < d; ++r) {
          if (r == p || r == q) continue;
          const double arp = at(a, r, p), arq = at(a, r, q);
          at(a, r, p) = at(a, p, r) = c * arp - s * arq;
          at(a, r, q) = at(a, q, r) = s * arp + c * arq;
        }
        at(a, p, p) = app - t * apq;
        at(a, q, q) = aqq + t * apq;
        at(a, p, q) = at(a, q, p) = 0.0;
        for (int r = 0; r < d; ++r) {
          const double vrp = at(v, r, p), vrq = at(v, r, q);
          at(v, r, p) = c * vrp - s * vrq;
          at(v, r, q) = s * vrp + c * vrq;
        }
      }
    }
    if (!rotated) return;
  }
}

// As jacobi_eigen, then the eigenvalues in ascending order in w (d) and the columns of v in the same order (a
// selection sort, ties in index order, as Eigen's solver sorts).
inline void jacobi_eigen_ascending(double* a, double* v, double* w, int d) {
  jacobi_eigen(a, v, d);
  for (int i = 0; i < d; ++i) w[i] = a[i + static_cast<long>(i) * d];
  for (int i = 0; i + 1 < d; ++i) {
    int k = i;
    for (int j = i + 1; j < d; ++j)
      if (w[j] < w[k]) k = j;
    if (k == i) continue;
    std::swap(w[i], w[k]);
    for (int r = 0; r < d; ++r) std::swap(v[r + static_cast<long>(i) * d], v[r + static_cast<long>(k) * d]);
  }
}

// The Cholesky factor of a symmetric positive definite A (d x d, column-major; only the lower triangle is read):
// L (d x d, lower, zero above) with A = L L^T, column by column, each sum in index order. False if a pivot is not
// positive (A not positive definite, or NaN).
inline bool plain_cholesky(const double* A, double* L, int d) {
  const auto at = [d](auto* m, int i, int j) -> auto& { return m[i + static_cast<long>(j) * d]; };
  for (long i = 0; i < static_cast<long>(d) * d; ++i) L[i] = 0.0;
  for (int j = 0; j < d; ++j) {
    double s = at(A, j, j);
    for (int k = 0; k < j; ++k) s -= at(L, j, k) * at(L, j, k);
    if (!(s > 0.0)) return false;
    const double ljj = std::sqrt(s);
    at(L, j, j) = ljj;
    for (int i = j + 1; i < d; ++i) {
      double t = at(A, i, j);
      for (int k = 0; k < j; ++k) t -= at(L, i, k) * at(L, j, k);
      at(L, i, j) = t / ljj;
    }
  }
  return true;
}

// X = L^-1 for a lower triangular L with a non-zero diagonal (d x d, column-major): forward substitution column by
// column, each sum in index order; X is lower triangular (zero above).
inline void plain_lower_inverse(const double* L, double* X, int d) {
  const auto at = [d](auto* m, int i, int j) -> auto& { return m[i + static_cast<long>(j) * d]; };
  for (long i = 0; i < static_cast<long>(d) * d; ++i) X[i] = 0.0;
  for (int c = 0; c < d; ++c)
    for (int i = c; i < d; ++i) {
      double t = i == c ? 1.0 : 0.0;
      for (int k = c; k < i; ++k) t -= at(L, i, k) * at(X, k, c);
      at(X, i, c) = t / at(L, i, i);
    }
}

// C = A^T B for A (n x p) and B (n x q), column-major, C (p x q), each entry summed over n in index order.
inline void plain_at_b(const double* A, const double* B, double* C, int n, int p, int q) {
  for (int j = 0; j < q; ++j)
    for (int i = 0; i < p; ++i) {
      double s = 0.0;
      for (int k = 0; k < n; ++k) s += A[k + static_cast<long>(i) * n] * B[k + static_cast<long>(j) * n];
      C[i + static_cast<long>(j) * p] = s;
    }
}

// C = A A^T for A (n x k), column-major, C (n x n), each entry summed over k in index order (exactly symmetric).
inline void plain_a_at(const double* A, double* C, int n, int k) {
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) {
      double s = 0.0;
      for (int r = 0; r < k; ++r) s += A[i + static_cast<long>(r) * n] * A[j + static_cast<long>(r) * n];
      C[i + static_cast<long>(j) * n] = s;
    }
}

// C = A B for A (n x m) and B (m x q), column-major, C (n x q), each entry summed over m in index order.
inline void plain_a_b(const double* A, const double* B, double* C, int n, int m, int q) {
  for (int j = 0; j < q; ++j)
    for (int i = 0; i < n; ++i) {
      double s = 0.0;
      for (int k = 0; k < m; ++k) s += A[i + static_cast<long>(k) * n] * B[k + static_cast<long>(j) * m];
      C[i + static_cast<long>(j) * n] = s;
    }
}

}  // namespace escapade
