// The eigendecomposition of a small symmetric matrix by cyclic Jacobi rotations, and the few other dense routines whose
// results reach a path's numbers (Cholesky, a triangular inverse, products), in plain scalar arithmetic.
//
// Eigen's SelfAdjointEigenSolver and its matrix products call FMA intrinsics wherever the instruction set has them
// (x86-64-v3 and up) whatever -ffp-contract says, and sum with the vector width of the level, so their last bits
// depend on the CPU a portable build runs on. This routine uses only separate multiplies, adds, divides and square
// roots in a fixed order (IEEE operations, no libm, contraction off), so it gives the same bits at every level and
// in a -march=native build.
#pragma once

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

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

// sqrt(a^2 + b^2) without overflow or underflow, in plain arithmetic (no libm hypot).
inline double plain_hypot(double a, double b) {
  const double x = std::abs(a), y = std::abs(b);
  if (x > y) {
    const double r = y / x;
    return x * std::sqrt(1.0 + r * r);
  }
  if (y == 0.0) return 0.0;
  const double r = x / y;
  return y * std::sqrt(1.0 + r * r);
}

// A (d x d, column-major, symmetric; only read) = V diag(w) V^T by Householder tridiagonalization and the implicit
// QL algorithm (tred2 and tql2 of EISPACK, as in JAMA), in plain arithmetic in a fixed order: about 9 d^3 flops
// against the 30-50 d^3 of jacobi_eigen's sweeps, for the matrices that change at every step. w (d) and the
// columns of v (d x d, column-major) in no particular order.
inline void ql_eigen(const double* A, double* v, double* w, int d) {
  const int n = d;
  const auto V = [v, n](int i, int j) -> double& { return v[i + static_cast<long>(j) * n]; };
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) V(i, j) = A[i + static_cast<long>(j) * n];
  double* dd = w;
  std::vector<double> ev(static_cast<std::size_t>(n));
  double* e = ev.data();
  // tred2: Householder reduction to tridiagonal form, the transformations accumulated in V.
  for (int j = 0; j < n; ++j) dd[j] = V(n - 1, j);
  for (int i = n - 1; i > 0; --i) {
    double scale = 0.0, h = 0.0;
    for (int k = 0; k < i; ++k) scale = scale + std::abs(dd[k]);
    if (scale == 0.0) {
      e[i] = dd[i - 1];
      for (int j = 0; j < i; ++j) {
        dd[j] = V(i - 1, j);
        V(i, j) = 0.0;
        V(j, i) = 0.0;
      }
    } else {
      for (int k = 0; k < i; ++k) {
        dd[k] /= scale;
        h += dd[k] * dd[k];
      }
      double f = dd[i - 1], g = std::sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h = h - f * g;
      dd[i - 1] = f - g;
      for (int j = 0; j < i; ++j) e[j] = 0.0;
      for (int j = 0; j < i; ++j) {
        f = dd[j];
        V(j, i) = f;
        g = e[j] + V(j, j) * f;
        for (int k = j + 1; k <= i - 1; ++k) {
          g += V(k, j) * dd[k];
          e[k] += V(k, j) * f;
        }
        e[j] = g;
      }
      f = 0.0;
      for (int j = 0; j < i; ++j) {
        e[j] /= h;
        f += e[j] * dd[j];
      }
      const double hh = f / (h + h);
      for (int j = 0; j < i; ++j) e[j] -= hh * dd[j];
      for (int j = 0; j < i; ++j) {
        f = dd[j];
        g = e[j];
        for (int k = j; k <= i - 1; ++k) V(k, j) -= (f * e[k] + g * dd[k]);
        dd[j] = V(i - 1, j);
        V(i, j) = 0.0;
      }
    }
    dd[i] = h;
  }
  for (int i = 0; i < n - 1; ++i) {
    V(n - 1, i) = V(i, i);
    V(i, i) = 1.0;
    const double h = dd[i + 1];
    if (h != 0.0) {
      for (int k = 0; k <= i; ++k) dd[k] = V(k, i + 1) / h;
      for (int j = 0; j <= i; ++j) {
        double g = 0.0;
        for (int k = 0; k <= i; ++k) g += V(k, i + 1) * V(k, j);
        for (int k = 0; k <= i; ++k) V(k, j) -= g * dd[k];
      }
    }
    for (int k = 0; k <= i; ++k) V(k, i + 1) = 0.0;
  }
  for (int j = 0; j < n; ++j) {
    dd[j] = V(n - 1, j);
    V(n - 1, j) = 0.0;
  }
  V(n - 1, n - 1) = 1.0;
  e[0] = 0.0;
  // tql2: implicit QL on the tridiagonal matrix, the rotations applied to V.
  for (int i = 1; i < n; ++i) e[i - 1] = e[i];
  e[n - 1] = 0.0;
  double f = 0.0, tst1 = 0.0;
  const double eps = 0x1p-52;
  for (int l = 0; l < n; ++l) {
    tst1 = std::max(tst1, std::abs(dd[l]) + std::abs(e[l]));
    int m = l;
    while (m < n - 1 && !(std::abs(e[m]) <= eps * tst1)) ++m;
    if (m > l) {
      for (int iter = 0; iter < 100; ++iter) {
        double g = dd[l];
        double p = (dd[l + 1] - g) / (2.0 * e[l]);
        double r = plain_hypot(p, 1.0);
        if (p < 0) r = -r;
        dd[l] = e[l] / (p + r);
        dd[l + 1] = e[l] * (p + r);
        const double dl1 = dd[l + 1];
        double h = g - dd[l];
        for (int i = l + 2; i < n; ++i) dd[i] -= h;
        f = f + h;
        p = dd[m];
        double c = 1.0, c2 = c, c3 = c, s = 0.0, s2 = 0.0;
        const double el1 = e[l + 1];
        for (int i = m - 1; i >= l; --i) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = plain_hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * dd[i] - s * g;
          dd[i + 1] = h + s * (c * g + s * dd[i]);
          for (int k = 0; k < n; ++k) {
            h = V(k, i + 1);
            V(k, i + 1) = s * V(k, i) + c * h;
            V(k, i) = c * V(k, i) - s * h;
          }
        }
        p = -s * s2 * c3 * el1 * e[l] / dl1;
        e[l] = s * p;
        dd[l] = c * p;
        if (!(std::abs(e[l]) > eps * tst1)) break;
      }
    }
    dd[l] = dd[l] + f;
    e[l] = 0.0;
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

// x . y for x, y (n), summed in index order.
inline double plain_dot(const double* x, const double* y, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += x[i] * y[i];
  return s;
}

// |x|^2 for x (n), summed in index order.
inline double plain_squared_norm(const double* x, int n) {
  double s = 0.0;
  for (int i = 0; i < n; ++i) s += x[i] * x[i];
  return s;
}

// (x - c)^T A (x - c) for A (d x d, column-major): sum_i (x_i - c_i) (sum_j A_ij (x_j - c_j)), each sum in index
// order.
inline double plain_quadratic_form(const double* A, const double* x, const double* c, int d) {
  double f = 0.0;
  for (int i = 0; i < d; ++i) {
    double ay = 0.0;
    for (int j = 0; j < d; ++j) ay += A[i + static_cast<long>(j) * d] * (x[j] - c[j]);
    f += (x[i] - c[i]) * ay;
  }
  return f;
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
