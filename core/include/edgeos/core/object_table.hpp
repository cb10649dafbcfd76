// Fixed-capacity object tables with generation-checked ids.
//
// Every kernel object (thread, scheduling context, FWP, FWP template) lives in a table whose
// storage the backend provides once, at configuration: the simulator from the heap, the kernel
// from memory it reserves at boot. Allocation and free are O(1) (a free list threaded through the
// slots). Ids are (index, generation): freeing or recycling a slot bumps its generation, so an id
// held after its object died is recognised as stale instead of silently naming a new object.
#pragma once

#include "edgeos/core/base.hpp"
#include "edgeos/core/result.hpp"

namespace edgeos {

template <class Tag>
struct Id {
  static constexpr uint32_t kNoIndex = 0xffff'ffffu;

  uint32_t index = kNoIndex;
  uint32_t generation = 0;

  constexpr bool valid() const { return index != kNoIndex; }
  constexpr bool operator==(const Id&) const = default;
};

struct ThreadTag;
struct SchedContextTag;
struct FwpTag;
struct TemplateTag;
using ThreadId = Id<ThreadTag>;
using ScId = Id<SchedContextTag>;
using FwpId = Id<FwpTag>;
using TemplateId = Id<TemplateTag>;

using CpuId = uint32_t;

// Bookkeeping every table-resident object carries. Objects derive from it.
struct Slot {
  uint32_t slot_index = 0;
  uint32_t slot_generation = 0;
  uint32_t slot_next_free = 0;
  bool slot_live = false;
};

template <class T, class IdT>
class ObjectTable {
  static_assert(std::is_base_of_v<Slot, T>);
  static constexpr uint32_t kEnd = 0xffff'ffffu;

 public:
  ObjectTable() = default;
  ObjectTable(const ObjectTable&) = delete;
  ObjectTable& operator=(const ObjectTable&) = delete;

  // Takes the storage; all slots start free. Objects are constructed in place on allocation.
  void init(Span<T> storage) {
    slots_ = storage;
    free_head_ = kEnd;
    for (size_t i = storage.size(); i-- > 0;) {
      T& s = storage[i];
      s.slot_index = static_cast<uint32_t>(i);
      s.slot_generation = 0;
      s.slot_live = false;
      s.slot_next_free = free_head_;
      free_head_ = static_cast<uint32_t>(i);
    }
    live_ = 0;
  }

  size_t capacity() const { return slots_.size(); }
  size_t live() const { return live_; }

  // A default-constructed object in a free slot, or kOutOfCapacity.
  Result<T*> alloc() {
    if (free_head_ == kEnd) return Error::kOutOfCapacity;
    T& s = slots_[free_head_];
    const uint32_t index = s.slot_index;
    const uint32_t generation = s.slot_generation;
    free_head_ = s.slot_next_free;
    new (&s) T();
    s.slot_index = index;
    s.slot_generation = generation;
    s.slot_live = true;
    ++live_;
    return &s;
  }

  void free(T& s) {
    EDGEOS_ASSERT(s.slot_live);
    s.slot_live = false;
    ++s.slot_generation;
    s.slot_next_free = free_head_;
    free_head_ = s.slot_index;
    --live_;
  }

  // Gives a live object a new identity (for FWP recycling): old ids become stale.
  void renew(T& s) {
    EDGEOS_ASSERT(s.slot_live);
    ++s.slot_generation;
  }

  IdT id_of(const T& s) const { return IdT{s.slot_index, s.slot_generation}; }

  Result<T*> lookup(IdT id) const {
    if (!id.valid() || id.index >= slots_.size()) return Error::kNotFound;
    T& s = slots_[id.index];
    if (!s.slot_live || s.slot_generation != id.generation) return Error::kStale;
    return &s;
  }

  T& at(uint32_t index) const { return slots_[index]; }

  // Calls f(T&) for every live object, in index order. O(capacity): for checks, not hot paths.
  template <class F>
  void for_each_live(F&& f) const {
    for (T& s : slots_) {
      if (s.slot_live) f(s);
    }
  }

 private:
  Span<T> slots_;
  uint32_t free_head_ = kEnd;
  size_t live_ = 0;
};

}  // namespace edgeos
