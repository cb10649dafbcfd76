// memcached over UDP: the application a memcached tenant's FWP runs (issue 16, item 8).
//
// It speaks memcached's ASCII protocol over UDP (protocol.txt, "UDP protocol") the way memcached
// 1.6 answers it, byte for byte where the two can be compared (the test in tests/ sends one request
// sequence to both): the 8-byte frame header, requests in one datagram, replies cut into datagrams
// of at most 1,400 bytes (frame header included), sequence numbers and totals; `get`/`gets` of one
// or more keys, `set`, `add`, `replace`, `delete`, `incr`, `decr`, flags, expiration times,
// `noreply`, and memcached's ERROR / CLIENT_ERROR / SERVER_ERROR replies. README.md lists where it
// differs from memcached and why.
//
// All state (the items, the counters, the reply being built) lives in the region given to init():
// no heap, no exceptions, nothing of libc but mem*. Its size is the tenant's memory budget; a full
// store evicts its least recently used items.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "edgeos/apps/memcached/store.hpp"
#include "edgeos/net/udp_app.hpp"

namespace edgeos::apps::memcached {

struct Config {
  // An item whose chunks take more than this many bytes is refused with "SERVER_ERROR object too
  // large for cache", memcached's reply above its item size limit (-I, 1 MiB by default). One that
  // is within this limit but larger than the whole store gets "SERVER_ERROR out of memory storing
  // object".
  uint64_t max_item_bytes = uint64_t{1} << 20;
  // The time, as Unix seconds, for expiration times. Without a clock (null) an item with a positive
  // expiration time never expires; a negative one (or, with a clock, one already past) expires at
  // once, as in memcached. Called once per datagram.
  int64_t (*clock)(void* context) = nullptr;
  void* clock_context = nullptr;
  // Mixed into the key hash (a tenant's keys cannot be aimed at one bucket of another tenant's
  // table anyway: each has its own).
  uint32_t hash_seed = 0;
};

// What the engine counts, since init().
struct Counters {
  uint64_t datagrams;           // handed to handle()
  uint64_t dropped_short;       // shorter than the 8-byte frame header
  uint64_t dropped_multi;       // frame header announcing more than one datagram (memcached drops them)
  uint64_t dropped_incomplete;  // a data block running past the datagram's end: the rest is dropped
  uint64_t partial_lines;       // trailing bytes without an end of line, ignored (as by memcached)
  uint64_t commands;            // command lines, including unknown ones
  uint64_t get_keys;            // keys asked for by get and gets
  uint64_t get_hits;
  uint64_t get_misses;
  uint64_t stored;              // STORED
  uint64_t not_stored;          // add of a present key, replace of an absent one
  uint64_t delete_hits;
  uint64_t delete_misses;
  uint64_t incr_hits;           // incr and decr
  uint64_t incr_misses;
  uint64_t evictions;           // live items removed to make room (the store's count)
  uint64_t reclaimed;           // expired items removed
  uint64_t errors;              // ERROR, CLIENT_ERROR and SERVER_ERROR outcomes, sent or not (noreply)
  uint64_t too_large;           // of those: object too large for cache
  uint64_t out_of_memory;       // of those: out of memory
  uint64_t tx_datagrams;        // reply datagrams the sink took
  uint64_t tx_failed;           // requests whose reply was cut short because the sink refused one
};

namespace detail {
struct EngineState;
}

class Engine final : public net::UdpApp {
 public:
  // The first 4 KiB of the region hold the engine's state (counters, the reply datagram being
  // filled); the rest is the item store.
  static constexpr size_t kStateBytes = 4096;
  static constexpr size_t kMinRegionBytes = kStateBytes + 64 + ItemStore::kMinRegionBytes;
  // memcached's UDP_MAX_PAYLOAD_SIZE: a reply datagram, frame header included.
  static constexpr size_t kMaxDatagram = 1400;
  static constexpr size_t kFrameHeader = 8;

  // Lays out an empty cache in [mem, mem + bytes) (the tenant's budget; kMinRegionBytes at least).
  // False if the region is too small; handle() then drops everything.
  [[nodiscard]] bool init(void* mem, size_t bytes, const Config& config = {});
  // Adopts a region init() laid out, e.g. the copy of a template's checkpoint at another address
  // (same address modulo 64). The clock callback is kept as it was: it must be valid here too.
  [[nodiscard]] bool attach(void* mem, size_t bytes);

  // One request datagram: frame header, then one or more commands. Never fails: malformed input
  // is answered with memcached's error or dropped, and counted.
  void handle(const net::Peer& from, const uint8_t* data, size_t len, net::ReplySink& out) override;

  const Counters& counters() const;
  ItemStore& store() { return store_; }
  const ItemStore& store() const { return store_; }

 private:
  detail::EngineState* st_ = nullptr;
  ItemStore store_;
};

}  // namespace edgeos::apps::memcached
