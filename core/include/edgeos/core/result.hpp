// Fallible operations return values, never throw: `Status` for operations without a result,
// `Result<T>` for those with one (in the spirit of NOVA's `Status` and SerenityOS's `ErrorOr`).
// Both are [[nodiscard]]: a caller must look at what went wrong.
#pragma once

#include "edgeos/core/base.hpp"

namespace edgeos {

enum class Error : uint8_t {
  kOk = 0,
  kInvalidArgument,  // a parameter is outside its documented range
  kOutOfCapacity,    // a fixed-capacity table is full (capacity is set at configuration)
  kNotFound,         // no object has this id
  kStale,            // the id named an object that has since been destroyed or recycled
  kBadState,         // the object is not in a state where the operation applies
  kBusy,             // the object is busy (e.g. a release while the previous job runs)
  kUnsupported,      // the operation does not apply to this kind of object or policy
  kWouldBlock,       // a ring is full (send) or empty (receive): try again later
  kDenied,           // no capability of the right kind in that slot
};

// A short, stable name for messages and traces ("out_of_capacity").
const char* error_name(Error e);

class [[nodiscard]] Status {
 public:
  constexpr Status() = default;
  constexpr Status(Error e) : error_(e) {}  // NOLINT(google-explicit-constructor): `return Error::k...;`

  static constexpr Status ok() { return Status(); }
  constexpr bool is_ok() const { return error_ == Error::kOk; }
  constexpr explicit operator bool() const { return is_ok(); }
  constexpr Error error() const { return error_; }
  // Explicitly drop a status the caller has decided not to handle.
  constexpr void ignore() const {}

 private:
  Error error_ = Error::kOk;
};

template <class T>
class [[nodiscard]] Result {
  static_assert(std::is_default_constructible_v<T> && std::is_trivially_destructible_v<T>,
                "Result holds small value types (ids, pointers)");

 public:
  constexpr Result(T value) : value_(value) {}  // NOLINT(google-explicit-constructor)
  constexpr Result(Error e) : error_(e) {}      // NOLINT(google-explicit-constructor)

  constexpr bool is_ok() const { return error_ == Error::kOk; }
  constexpr explicit operator bool() const { return is_ok(); }
  constexpr Error error() const { return error_; }
  constexpr Status status() const { return Status(error_); }

  constexpr const T& value() const {
    EDGEOS_ASSERT(is_ok());
    return value_;
  }
  constexpr const T& operator*() const { return value(); }
  constexpr const T* operator->() const { return &value(); }

 private:
  T value_{};
  Error error_ = Error::kOk;
};

}  // namespace edgeos

// Propagate an error to the caller: `EDGEOS_TRY(kernel.complete(t));`
#define EDGEOS_TRY(expr)                             \
  do {                                               \
    ::edgeos::Status edgeos_try_status_ = (expr);    \
    if (!edgeos_try_status_.is_ok()) return edgeos_try_status_.error(); \
  } while (0)
