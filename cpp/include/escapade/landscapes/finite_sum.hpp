#pragma once

#include <cmath>
#include <vector>

#include "escapade/landscape.hpp"
#include "escapade/validate.hpp"

namespace escapade {

// Checks that p is a probability vector over the n terms (any n >= 1 when n < 0), named "p" in errors; returns
// whether it is uniform.
inline bool check_weights(const Vector& p, long n = -1) {
  require((n < 0 ? p.size() >= 1 : p.size() == n) && p.allFinite() && (p.array() >= 0).all() && std::abs(p.sum() - 1.0) <= 1e-9, "p",
          "not a probability vector over the terms", "non-negative, one per term, summing to 1");
  return (p.array() == p[0]).all();
}

// A finite sum F(x) = sum_i p_i f_i(x) whose terms' gradients SGD-k samples.
class FiniteSum : public Landscape {
 public:
  virtual int n_terms() const = 0;
  // Probabilities p_i (sum 1); uniform() when all are 1/n.
  virtual const Vector& weights() const = 0;
  virtual bool uniform() const = 0;
  // g += grad f_i(x) for one point x (length d).
  virtual void add_term_gradient(int i, const double* x, double* g) const = 0;
  // For `width` points (d x width): g(:, l) += grad f_{terms[l]}(x(:, l)). One call per block for landscapes
  // whose terms are cheaper in batches (user callbacks).
  virtual void add_term_gradients(const int* terms, const double* x, double* g, int width) const {
    const int d = dim();
    for (int l = 0; l < width; ++l) add_term_gradient(terms[l], x + static_cast<long>(l) * d, g + static_cast<long>(l) * d);
  }

  // grad F = sum_i p_i grad f_i in index order; with uniform weights (sum_i grad f_i) / n. A sum whose full
  // gradient has a cheaper closed form (Styblinski-Tang sums) overrides this; SGD-k with k = n without replacement
  // calls gradient() itself (TermSampler), so it is GD bit for bit either way.
  void gradient(const double* x, double* g, int width) const override {
    const int d = dim(), n = n_terms();
    std::vector<double> gi(d);
    for (int l = 0; l < width; ++l) {
      const double* xl = x + static_cast<long>(l) * d;
      double* gl = g + static_cast<long>(l) * d;
      for (int j = 0; j < d; ++j) gl[j] = 0.0;
      for (int i = 0; i < n; ++i) {
        if (uniform()) {
          add_term_gradient(i, xl, gl);
          continue;
        }
        for (int j = 0; j < d; ++j) gi[j] = 0.0;
        add_term_gradient(i, xl, gi.data());
        for (int j = 0; j < d; ++j) gl[j] += weights()[i] * gi[j];
      }
      if (uniform())
        for (int j = 0; j < d; ++j) gl[j] /= n;
    }
  }
};

}  // namespace escapade
