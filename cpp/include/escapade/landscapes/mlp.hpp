#pragma once

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "escapade/jacobi.hpp"
#include "escapade/landscapes/finite_sum.hpp"

namespace escapade {

// A one-hidden-layer tanh network fitted by l2-regularized mean squared error, one term per sample (003's
// experiment): yhat(x) = W2 tanh(W1 x + b1) + b2 and
//   f_i(theta) = |yhat(x_i) - y_i|^2 / 2 + (l2 / 2) |theta|^2,   F = (1/n) sum_i f_i.
// theta = [W1 (h x p, row-major), b1 (h), W2 (m x h, row-major), b2 (m)] for p inputs, h hidden units, m outputs.
class MLP final : public FiniteSum {
 public:
  // X: p x n (column i = sample i), Y: m x n.
  MLP(Matrix X, Matrix Y, int hidden, double l2) : X_(std::move(X)), Y_(std::move(Y)), h_(hidden), l2_(l2) {
    const long p = X_.rows(), n = X_.cols();
    require(p >= 1 && n >= 1, "X", std::to_string(n) + "x" + std::to_string(p), "a non-empty (n_samples, n_inputs) array");
    require(X_.allFinite(), "X", "an array with NaN or inf", "finite");
    require(Y_.cols() == n && Y_.rows() >= 1, "y", std::to_string(Y_.cols()) + " targets",
            std::to_string(n) + " targets (one per row of X)");
    require(Y_.allFinite(), "y", "an array with NaN or inf", "finite");
    require(hidden >= 1, "hidden", hidden, "a positive integer");
    // dim() and the parameter indices are ints
    const long dim = static_cast<long>(hidden) * (p + 1) + (static_cast<long>(hidden) + 1) * Y_.rows();
    require(dim <= std::numeric_limits<int>::max(), "hidden", hidden,
            "small enough for at most 2^31 - 1 parameters (h (p + 1) + (h + 1) m)");
    require(std::isfinite(l2) && l2 >= 0, "l2", l2, "finite and >= 0");
    p_ = Vector::Constant(n, 1.0 / static_cast<double>(n));
  }
  int n_inputs() const { return static_cast<int>(X_.rows()); }
  int n_outputs() const { return static_cast<int>(Y_.rows()); }
  int hidden() const { return h_; }
  int dim() const override { return h_ * n_inputs() + h_ + n_outputs() * h_ + n_outputs(); }
  std::string name() const override { return "MLP"; }
  int n_terms() const override { return static_cast<int>(X_.cols()); }
  const Vector& weights() const override { return p_; }
  bool uniform() const override { return true; }

  double value(const double* th) const override {
    Scratch& s = scratch();
    double f = 0;
    for (int i = 0; i < n_terms(); ++i) {
      forward(i, th, s);
      for (int o = 0; o < n_outputs(); ++o) f += 0.5 * s.e[o] * s.e[o];
    }
    const double sq = plain_squared_norm(th, dim());  // in index order, whatever the instruction set
    return f / n_terms() + 0.5 * l2_ * sq;
  }

  void add_term_gradient(int i, const double* th, double* g) const override {
    Scratch& s = scratch();
    forward(i, th, s);
    backward(i, th, s, g);
  }

  // Term by term, a term's data read once per block for all the lanes that drew it, with the bits of
  // add_term_gradient. A lane's W1 is transposed once per block-step, so that a pair's hidden pre-activations
  // z_k = b1_k + sum_j W1_kj x_j (each summed over j in order) run in vectors over the hidden units where forward
  // sums one unit after another; the tanh stay libm's, one per unit.
  void add_batch_gradients(const TermBatch& b, const double* th, double* g) const override {
    const int p = n_inputs(), h = h_, P = dim(), width = b.width;
    const long ob1 = static_cast<long>(h) * p;
    thread_local std::vector<double> w1t, z;
    w1t.resize(static_cast<std::size_t>(width) * p * h);
    z.resize(static_cast<std::size_t>(h));
    for (int l = 0; l < width; ++l)  // lane l's W1 transposed: p x h, column j of W1 as row j
      for (int k = 0; k < h; ++k)
        for (int j = 0; j < p; ++j)
          w1t[(static_cast<std::size_t>(l) * p + j) * h + k] = th[static_cast<long>(l) * P + static_cast<long>(k) * p + j];
    Scratch& s = scratch();
    double* __restrict zk = z.data();
    for (int i = 0; i < b.n_terms; ++i) {  // uniform p: the batch carries no weights
      const double* __restrict xi = X_.col(i).data();
      for (int q = b.start[i]; q < b.start[i + 1]; ++q) {
        const int l = b.lane[q];
        const double* t = th + static_cast<long>(l) * P;
        const double* __restrict wt = w1t.data() + static_cast<std::size_t>(l) * p * h;
        for (int k = 0; k < h; ++k) zk[k] = t[ob1 + k];
        for (int j = 0; j < p; ++j)
          for (int k = 0; k < h; ++k) zk[k] += wt[static_cast<long>(j) * h + k] * xi[j];
        for (int k = 0; k < h; ++k) s.a[k] = std::tanh(zk[k]);
        outputs(i, t, s);
        backward(i, t, s, g + static_cast<long>(l) * P);
      }
    }
  }
  // Exact: (1/n) sum_i (J_i^T J_i + sum_o e_io Hess yhat_o) + l2 I, J_i the Jacobian of yhat(x_i) in theta.
  void hessian(const double* th, double* H) const override {
    const int p = n_inputs(), m = n_outputs(), h = h_, P = dim();
    const long ob1 = static_cast<long>(h) * p, oW2 = ob1 + h, ob2 = oW2 + static_cast<long>(m) * h;
    Eigen::Map<Matrix> out(H, P, P);
    out.setZero();
    Scratch& s = scratch();
    Matrix J(m, P);
    std::vector<double> xt(p + 1);
    // Index of the input weight of hidden unit k on input j (j = p: the bias).
    auto w = [&](int k, int j) { return j < p ? static_cast<long>(k) * p + j : ob1 + k; };
    for (int i = 0; i < n_terms(); ++i) {
      forward(i, th, s);
      for (int j = 0; j < p; ++j) xt[j] = X_(j, i);
      xt[p] = 1.0;
      J.setZero();
      for (int o = 0; o < m; ++o) {
        for (int k = 0; k < h; ++k) {
          J(o, oW2 + o * h + k) = s.a[k];
          const double dk = th[oW2 + o * h + k] * (1.0 - s.a[k] * s.a[k]);
          for (int j = 0; j <= p; ++j) J(o, w(k, j)) = dk * xt[j];
        }
        J(o, ob2 + o) = 1.0;
      }
      // J^T J, each entry summed over the outputs in order (the same bits at every instruction-set level).
      for (int c = 0; c < P; ++c)
        for (int r = 0; r < P; ++r) {
          double a = 0.0;
          for (int o = 0; o < m; ++o) a += J(o, r) * J(o, c);
          out(r, c) += a;
        }
      for (int k = 0; k < h; ++k) {
        const double d1 = 1.0 - s.a[k] * s.a[k], d2 = -2.0 * s.a[k] * d1;
        double back = 0;
        for (int o = 0; o < m; ++o) back += s.e[o] * th[oW2 + o * h + k];
        for (int j1 = 0; j1 <= p; ++j1)
          for (int j2 = 0; j2 <= p; ++j2) out(w(k, j1), w(k, j2)) += back * d2 * xt[j1] * xt[j2];
        for (int o = 0; o < m; ++o)
          for (int j = 0; j <= p; ++j) {
            const double c = s.e[o] * d1 * xt[j];
            out(oW2 + o * h + k, w(k, j)) += c;
            out(w(k, j), oW2 + o * h + k) += c;
          }
      }
    }
    const Matrix sym = (out + out.transpose()) / (2.0 * n_terms());  // exactly symmetric
    out = sym;
    out.diagonal().array() += l2_;
  }

 private:
  struct Scratch {
    std::vector<double> a, e;
  };
  // Per-thread buffers: the engine calls the gradient from every OpenMP thread.
  Scratch& scratch() const {
    thread_local Scratch s;
    s.a.resize(h_);
    s.e.resize(n_outputs());
    return s;
  }
  // a = tanh(W1 x_i + b1), e = W2 a + b2 - y_i.
  void forward(int i, const double* th, Scratch& s) const {
    const int p = n_inputs(), h = h_;
    const long ob1 = static_cast<long>(h) * p;
    const double* x = X_.col(i).data();
    for (int k = 0; k < h; ++k) {
      double z = th[ob1 + k];
      for (int j = 0; j < p; ++j) z += th[static_cast<long>(k) * p + j] * x[j];
      s.a[k] = std::tanh(z);
    }
    outputs(i, th, s);
  }
  // e = W2 a + b2 - y_i from the hidden activations a.
  void outputs(int i, const double* th, Scratch& s) const {
    const int m = n_outputs(), h = h_;
    const long oW2 = static_cast<long>(h) * n_inputs() + h, ob2 = oW2 + static_cast<long>(m) * h;
    for (int o = 0; o < m; ++o) {
      double yhat = th[ob2 + o];
      for (int k = 0; k < h; ++k) yhat += th[oW2 + o * h + k] * s.a[k];
      s.e[o] = yhat - Y_(o, i);
    }
  }
  // g += grad f_i(theta) from the forward pass's a and e: the l2 part, then the output layer's, then the hidden
  // layer's.
  void backward(int i, const double* __restrict th, const Scratch& s, double* __restrict g) const {
    const int p = n_inputs(), m = n_outputs(), h = h_, P = dim();
    const long ob1 = static_cast<long>(h) * p, oW2 = ob1 + h, ob2 = oW2 + static_cast<long>(m) * h;
    const double *__restrict a = s.a.data(), *__restrict e = s.e.data(), *__restrict x = X_.col(i).data();
    const double l2 = l2_;
    for (int k = 0; k < P; ++k) g[k] += l2 * th[k];
    for (int o = 0; o < m; ++o) {
      for (int k = 0; k < h; ++k) g[oW2 + o * h + k] += e[o] * a[k];
      g[ob2 + o] += e[o];
    }
    for (int k = 0; k < h; ++k) {
      double back = 0;
      for (int o = 0; o < m; ++o) back += e[o] * th[oW2 + o * h + k];
      const double delta = back * (1.0 - a[k] * a[k]);
      for (int j = 0; j < p; ++j) g[static_cast<long>(k) * p + j] += delta * x[j];
      g[ob1 + k] += delta;
    }
  }

  Matrix X_, Y_;
  int h_;
  double l2_;
  Vector p_;
};

}  // namespace escapade
