// Argument checks that name the offending parameter; std::invalid_argument reaches Python as ValueError.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace escapade {

template <class T>
void require(bool ok, const char* name, const T& value, const std::string& expectation) {
  if (ok) return;
  std::ostringstream msg;
  msg.precision(17);
  msg << name << " must be " << expectation << ", got " << value;
  throw std::invalid_argument(msg.str());
}

inline void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

}  // namespace escapade
