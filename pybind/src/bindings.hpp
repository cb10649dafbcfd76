// The pieces of the _edgeos module, one function per source file.
#pragma once

#include <pybind11/pybind11.h>

namespace edgeos::py_bindings {

namespace py = pybind11;

void bind_model(py::module_& m);       // module.cpp
void bind_policies(py::module_& m);    // policy.cpp
void bind_simulation(py::module_& m);  // sim.cpp

}  // namespace edgeos::py_bindings
