// Landscapes: what is optimized. One virtual call per block-step evaluates the gradient of every lane.
#pragma once

#include <string>

#include "escapade/types.hpp"
#include "escapade/validate.hpp"

namespace escapade {

class Landscape {
 public:
  virtual ~Landscape() = default;
  virtual int dim() const = 0;
  virtual std::string name() const = 0;
  virtual double value(const double* x) const = 0;
  // g = grad f(x) for `width` points stored d x width, column-major.
  virtual void gradient(const double* x, double* g, int width) const = 0;
  // H = Hessian at x, d x d column-major.
  virtual void hessian(const double* x, double* H) const = 0;
  // True when a lane's gradient costs far more than moving a lane (a Python callback): once no paths are left to
  // start, the engine then keeps its blocks dense instead of evaluating finished lanes until half are idle.
  virtual bool keep_blocks_dense() const { return false; }
};

}  // namespace escapade
