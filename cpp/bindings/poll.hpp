// The core's poll for a run started from Python: called on the calling thread with the GIL re-acquired.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>

#include "escapade/engine.hpp"

namespace escapade::py_glue {

namespace py = pybind11;

// A signal (KeyboardInterrupt) or an exception from `progress` is left set as the Python error and stops the run;
// `python_error` says so, and the caller raises it once the core has returned.
inline PollFn python_poll(const py::object& progress, bool& python_error) {
  return [&progress, &python_error](std::int64_t finished) {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) return python_error = true;
    if (!progress.is_none()) {
      try {
        progress(finished);
      } catch (py::error_already_set& e) {
        e.restore();
        return python_error = true;
      }
    }
    return false;
  };
}

}  // namespace escapade::py_glue
