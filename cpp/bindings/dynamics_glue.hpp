// What bind_dynamics.cpp and bind_flows.cpp share.
#pragma once

#include <string>

#include "escapade/perturbations/gradient_noise.hpp"

namespace escapade::py_glue {

// "hessian" or "empirical": a state-dependent gradient-noise factor; ValueError naming `name` otherwise.
GradientNoise::Kind noise_kind(const std::string& noise, const char* name);

}  // namespace escapade::py_glue
