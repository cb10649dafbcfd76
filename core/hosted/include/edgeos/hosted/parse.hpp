// Parsing of human-written quantities: durations always carry a unit ("2ms", "500us", "1.5s").
// A bare number is an error: "is 10 seconds or nanoseconds?" is the bug this prevents.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "edgeos/core/time.hpp"

namespace edgeos {

// Units: ns, us, ms, s, min, h. Decimals are allowed if the result is a whole number of
// nanoseconds. Throws InputError with a message that names `what` (e.g. "--duration").
Duration parse_duration(std::string_view text, std::string_view what);

// "1.5ms", "20us", "3s", "0ns": the shortest exact spelling, for messages and files.
std::string format_duration(Duration d);

// A non-negative integer (seeds, counts). Throws InputError naming `what`.
uint64_t parse_uint(std::string_view text, std::string_view what);

}  // namespace edgeos
