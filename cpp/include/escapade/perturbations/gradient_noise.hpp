// The factor R(x) of a gradient-noise covariance C(x) = R(x) R(x)^T, applied to a lane's standard normals, for
// Gaussian SGD and its continuous version (003, eqs. 2 and 3):
//   fixed      R = C^{1/2} given once (d x k, any k);
//   hessian    C(x) = the landscape's Hessian at x, R = its PSD square root V max(w, 0)^{1/2} V^T from a symmetric
//              eigendecomposition H = V diag(w) V^T, negative eigenvalues clipped to 0 (d normals);
//   empirical  on a finite sum F = sum_i p_i f_i, C(x) = sum_i p_i (g_i - g)(g_i - g)^T with g_i = grad f_i(x)
//              and g = grad F(x) (uniform p: (1/n) sum_i); R = [sqrt(p_i) (g_i - g)]_i, d x n, so R z with n
//              normals is N(0, C(x)) exactly, at O(n d) per lane after the term gradients and with no d x d
//              matrix or eigendecomposition.
#pragma once

#include <cmath>
#include <cstring>
#include <vector>

#include "escapade/jacobi.hpp"
#include "escapade/kernels.hpp"
#include "escapade/landscape.hpp"
#include "escapade/landscapes/finite_sum.hpp"
#include "escapade/perturbation.hpp"
#include "escapade/validate.hpp"

namespace escapade {

// R = V max(w, 0)^{1/2} V^T for a symmetric S = V diag(w) V^T (S's two triangles averaged), by Householder
// tridiagonalization and implicit QL (a Hessian changes at every step: cheaper than Jacobi sweeps) and sums in
// index order, in plain arithmetic (jacobi.hpp): the same bits at every instruction-set level.
inline Matrix psd_sqrt(const Matrix& S) {
  const int d = static_cast<int>(S.rows());
  Matrix a(d, d), v(d, d), R(d, d);
  for (int j = 0; j < d; ++j)
    for (int i = 0; i < d; ++i) a(i, j) = 0.5 * S(i, j) + 0.5 * S(j, i);
  std::vector<double> w(static_cast<std::size_t>(d)), root(static_cast<std::size_t>(d));
  ql_eigen(a.data(), v.data(), w.data(), d);
  for (int k = 0; k < d; ++k) root[k] = w[k] > 0.0 ? std::sqrt(w[k]) : 0.0;
  for (int j = 0; j < d; ++j)
    for (int i = j; i < d; ++i) {
      double s = 0.0;
      for (int k = 0; k < d; ++k) s += (v(i, k) * root[k]) * v(j, k);
      R(i, j) = s;
      R(j, i) = s;
    }
  return R;
}

// Constant noise eps S dW with a d x k matrix S: checks eps and S, scales S to B = eps S in place, and returns the
// diffusion B B^T, summed in index order (jacobi.hpp) for the same bits at every level. Langevin and SDE share it.
inline Diffusion fixed_diffusion(Matrix& S, double eps) {
  require(std::isfinite(eps) && eps >= 0, "eps", eps, "finite and >= 0");
  require(S.rows() >= 1 && S.cols() >= 1, "S", "an empty matrix", "a non-empty d x k matrix");
  require(S.allFinite(), "S", "a matrix with NaN or inf", "finite");
  S *= eps;
  Diffusion D;
  D.isotropic = false;
  D.Sigma.resize(S.rows(), S.rows());
  plain_a_at(S.data(), D.Sigma.data(), static_cast<int>(S.rows()), static_cast<int>(S.cols()));
  return D;
}

class GradientNoise {
 public:
  enum class Kind { Fixed, Hessian, Empirical };

  GradientNoise() = default;
  // A fixed factor R (d x k), named `name` in error messages.
  GradientNoise(Matrix R, const char* name) : kind_(Kind::Fixed), name_(name) {
    require(R.rows() >= 1 && R.cols() >= 1 && R.allFinite(), name, "an empty or non-finite matrix",
            "a finite covariance matrix");
    R_ = PaddedMatrix(R);
    bool diagonal = R.rows() == R.cols();
    for (long j = 0; j < R.cols() && diagonal; ++j)
      for (long i = 0; i < R.rows(); ++i) diagonal = diagonal && (i == j || R(i, j) == 0.0);
    if (diagonal) diagonal_ = R.diagonal();
  }
  explicit GradientNoise(Kind kind, const char* name) : kind_(kind), name_(name) {}

  Kind kind() const { return kind_; }
  bool state_dependent() const { return kind_ != Kind::Fixed; }

  void check_dim(int d) const {
    if (kind_ == Kind::Fixed)
      require(R_.rows == d, name_, std::to_string(R_.rows) + " rows",
              "a " + std::to_string(d) + " x " + std::to_string(d) + " matrix (the landscape's dimension)");
  }
  void check_landscape(const Landscape& f) const {
    if (kind_ == Kind::Empirical)
      require(dynamic_cast<const FiniteSum*>(&f) != nullptr, name_, "\"empirical\" on the landscape " + f.name(),
              "a matrix or \"hessian\" unless the landscape is a finite sum (the empirical covariance of its "
              "terms' gradients)");
  }
  // Normals per lane and step (the empirical factor needs the landscape: noise_dim_on).
  int noise_dim(int d) const { return kind_ == Kind::Fixed ? R_.cols : kind_ == Kind::Hessian ? d : 0; }
  int noise_dim_on(const Landscape& f) const {
    if (kind_ != Kind::Empirical) return noise_dim(f.dim());
    return dynamic_cast<const FiniteSum&>(f).n_terms();
  }

  // r[:, l] = R(x_l) z_l for `width` lanes (d x width); g is grad f at the block (the empirical centre).
  void apply(const Landscape& f, const double* x, const double* g, const double* z, int width, double* r) const {
    switch (kind_) {
      case Kind::Fixed:
        if (diagonal_.size() > 0) {  // the product's sum without its zero terms: O(d) instead of O(d^2), same bits
          const long d = diagonal_.size();
          for (int l = 0; l < width; ++l)
            for (long i = 0; i < d; ++i) r[l * d + i] = diagonal_[i] * z[l * d + i];
          return;
        }
        fixed_order_matmul(R_, z, width, r);
        return;
      case Kind::Hessian:
        hessian(f, x, z, width, r);
        return;
      case Kind::Empirical:
        empirical(dynamic_cast<const FiniteSum&>(f), x, g, z, width, r);
        return;
    }
  }

  // The Gaussian SGD step x_next[:, l] = (x[:, l] - a[l] g[:, l]) + b[l] R(x_l) z_l (a[l] = eta, b[l] =
  // eta / sqrt(B)) with the bits of apply followed by that expression; a fixed dense R applies it to the
  // product's entries while they are in registers (fixed_order_matmul_step).
  void apply_step(const Landscape& f, const double* x, const double* g, const double* z, int width, const double* a,
                  const double* b, double* x_next) const {
    if (kind_ == Kind::Fixed && diagonal_.size() == 0) {
      fixed_order_matmul_step(R_, z, width, x, g, a, b, x_next);
      return;
    }
    apply(f, x, g, z, width, x_next);
    const int d = f.dim();
    for (int l = 0; l < width; ++l) {
      const double al = a[l], bl = b[l];
      for (int i = 0; i < d; ++i) {
        const long o = static_cast<long>(l) * d + i;
        x_next[o] = (x[o] - al * g[o]) + bl * x_next[o];
      }
    }
  }

 private:
  // Lanes whose Hessian has the same bits share its square root, kept from one call to the next on this thread
  // (a quadratic's: one decomposition per thread). The root is a function of the Hessian's bits alone.
  static void hessian(const Landscape& f, const double* x, const double* z, int width, double* r) {
    const int d = f.dim();
    thread_local Matrix last;
    thread_local PaddedMatrix R;
    Matrix H(d, d);
    for (int l = 0; l < width; ++l) {
      f.hessian(x + static_cast<long>(l) * d, H.data());
      if (last.rows() != d || std::memcmp(H.data(), last.data(), sizeof(double) * d * d) != 0) {
        last = H;
        R = PaddedMatrix(psd_sqrt(H));
      }
      fixed_order_matmul(R, z + static_cast<long>(l) * d, 1, r + static_cast<long>(l) * d);
    }
  }

  static void empirical(const FiniteSum& f, const double* x, const double* g, const double* z, int width,
                        double* r) {
    const int d = f.dim(), n = f.n_terms();
    std::vector<double> gi(d);
    for (int l = 0; l < width; ++l) {
      const long o = static_cast<long>(l) * d;
      const double* zl = z + static_cast<long>(l) * n;
      for (int j = 0; j < d; ++j) r[o + j] = 0.0;
      for (int i = 0; i < n; ++i) {
        for (int j = 0; j < d; ++j) gi[j] = 0.0;
        f.add_term_gradient(i, x + o, gi.data());
        const double s = std::sqrt(f.weights()[i]);
        for (int j = 0; j < d; ++j) r[o + j] += (s * (gi[j] - g[o + j])) * zl[i];
      }
    }
  }

  Kind kind_ = Kind::Fixed;
  const char* name_ = "C";
  PaddedMatrix R_;
  Vector diagonal_;  // R's diagonal when R is square and diagonal (empty otherwise)
};

}  // namespace escapade
