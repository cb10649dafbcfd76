// Errors in hosted code (files, command lines, task sets) are exceptions carrying a message that
// names what was wrong and where; the command line prints it and exits non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace edgeos {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace edgeos
