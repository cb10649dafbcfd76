// The CoAP server a sensor tenant runs (RFC 7252; discovery per RFC 6690), as a net::UdpApp.
//
// A tenant FWP constructs one Server, gives it its memory once at init (the template's data, so
// it is part of the checkpoint every FWP of the template starts from), registers its resources,
// and then feeds it every datagram of its RX ring:
//
//   constexpr ServerConfig kConfig{};                       // or sizes of its own
//   alignas(Server::kMemoryAlign) uint8_t arena[Server::memory_needed(kConfig)];
//   Server server;
//   server.init(kConfig, arena, sizeof arena);              // Status, [[nodiscard]]
//   server.add_reading("/temp", ";rt=\"temperature-c\";if=\"sensor\";ct=0", read_temp, &board);
//   server.add_store("/config", ";rt=\"config\";ct=0", 64);
//   ... server.handle(peer, datagram, length, tx_sink);   // per datagram, never fails
//
// What it does with a datagram (section numbers are RFC 7252's):
// - a Confirmable request gets its response piggybacked in an Acknowledgement with the request's
//   Message ID and token (5.2.1); a Non-confirmable one a Non-confirmable response with a Message
//   ID of the server's own and the request's token (5.2.3);
// - duplicates (same source endpoint and Message ID, 4.5) are answered from a cache of recent
//   responses: a duplicate Confirmable gets the same Acknowledgement byte for byte and the request
//   is not processed again; a duplicate Non-confirmable is ignored;
// - a Confirmable message with a format error (3, 3.1, 4.1), an Empty one ("ping", 4.3) or one
//   carrying a response gets a Reset; a Non-confirmable one is ignored; Acknowledgements and
//   Resets are ignored (this server never sends Confirmable messages);
// - unrecognised critical options (5.4.1), and supernumerary (5.4.5) or wrong-length (5.4.3)
//   occurrences of recognised ones, give 4.02 Bad Option for a Confirmable request and reject a
//   Non-confirmable one (ignored, 4.3); unrecognised elective options are ignored.
//
// Deviations from RFC 7252, all for a server with fixed memory and maybe no clock:
// - Deduplication keeps the last `dedup_entries` exchanges in a ring, not every exchange of the last
//   EXCHANGE_LIFETIME (247 s, 4.8.2): under a load of more than dedup_entries requests per 247 s a
//   late retransmission may be processed twice. With a clock (ServerConfig::now_ms) entries also
//   expire after EXCHANGE_LIFETIME (NON_LIFETIME, 145 s, for Non-confirmable ones).
// - A message only counts as a duplicate if its bytes are identical to the first (a 32-bit hash is
//   kept). Retransmissions always are (4.2); this keeps a clockless ring from answering a request
//   that reuses an old Message ID after the ID space wrapped (or a client restarted) with a stale
//   response.
// - No block-wise transfer (RFC 7959): Block1/Block2 are unrecognised critical options (4.02).
//   Every response must fit in `max_message` bytes; registration refuses resources that would not.
// - No ETags are issued, so If-Match with a value never matches (4.12); Uri-Host and Uri-Port are
//   accepted and ignored (one virtual server).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "edgeos/apps/coap/message.hpp"
#include "edgeos/net/udp_app.hpp"

namespace edgeos::apps::coap {

enum class [[nodiscard]] Status : uint8_t {
  kOk = 0,
  kInvalidArgument,  // a configuration value or resource description outside its documented range
  kOutOfCapacity,    // the resource table, the stored-value bytes or the largest message is full
  kOutOfMemory,      // the memory given to init() is smaller than memory_needed() or misaligned
  kBadState,         // init() not called (or failed), or called twice
  kDuplicate,        // a resource with this path is already registered
};

// Reads a sensor: writes the current representation (text/plain) into out[0, capacity) and sets
// *length. False if there is no reading now (the request gets 5.03 Service Unavailable).
using ReadFn = bool (*)(void* context, uint8_t* out, size_t capacity, size_t* length);

// Clock: milliseconds on any monotonic scale.
using ClockFn = uint64_t (*)(void* context);

struct ServerConfig {
  uint16_t max_resources = 8;
  uint16_t dedup_entries = 32;  // responses remembered for duplicate detection (a ring)
  uint16_t max_message = 512;   // the largest response this server builds (and caches), in bytes
  uint32_t store_bytes = 256;   // value bytes shared by all PUT-able resources
  // The first Message ID of the server's Non-confirmable responses. Section 4.4 asks for a
  // randomised start; a tenant without a random source can pass something per-FWP here.
  uint16_t first_message_id = 0;
  // Optional: with a clock, cached exchanges expire after EXCHANGE_LIFETIME / NON_LIFETIME.
  ClockFn now_ms = nullptr;
  void* clock_context = nullptr;
};

// Per-cause counters. Every datagram adds one to `datagrams` and one to either `requests` or one of
// the causes under "Not processed"; every request adds one to exactly one of its outcomes
// (`content` ... `rejected_options`). `send_failures` counts on top of those.
struct Counters {
  uint64_t datagrams = 0;
  // Requests processed (not duplicates), and how they were answered.
  uint64_t requests = 0;
  uint64_t content = 0;               // 2.05
  uint64_t changed = 0;               // 2.04
  uint64_t bad_option = 0;            // 4.02 (Confirmable) -- Non-confirmable ones are `rejected_options`
  uint64_t not_found = 0;             // 4.04
  uint64_t method_not_allowed = 0;    // 4.05
  uint64_t not_acceptable = 0;        // 4.06
  uint64_t precondition_failed = 0;   // 4.12
  uint64_t too_large = 0;             // 4.13
  uint64_t unsupported_format = 0;    // 4.15
  uint64_t internal_error = 0;        // 5.00 (a response that did not fit max_message)
  uint64_t unavailable = 0;           // 5.03 (a sensor without a reading)
  uint64_t proxying_not_supported = 0;  // 5.05
  uint64_t rejected_options = 0;      // Non-confirmable requests with a bad critical option: ignored
  // Not processed.
  uint64_t duplicates_con = 0;        // answered again from the cache
  uint64_t duplicates_non = 0;        // ignored
  uint64_t format_errors = 0;         // Reset if Confirmable, else ignored
  uint64_t too_short = 0;             // under 4 bytes: ignored
  uint64_t bad_version = 0;           // ignored
  uint64_t pings = 0;                 // Empty Confirmable: Reset
  uint64_t rejected = 0;              // a response or reserved code (Reset if Confirmable), Empty NON
  uint64_t acks_resets = 0;           // ignored
  uint64_t not_ready = 0;             // before a successful init()
  // Replies the sink refused (TX ring full); counted in addition to the cause above.
  uint64_t send_failures = 0;
};

class Server final : public net::UdpApp {
 public:
  static constexpr size_t kMemoryAlign = 8;
  // Section 4.8.2, with the default transmission parameters.
  static constexpr uint64_t kExchangeLifetimeMs = 247'000;
  static constexpr uint64_t kNonLifetimeMs = 145'000;

  // Constant-initialised (`constinit Server server;`): an FWP template needs no constructor run.
  constexpr Server() = default;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Bytes of memory init() needs for `config` (usable to size a static array).
  static constexpr size_t memory_needed(const ServerConfig& config);

  // Takes `memory` (kMemoryAlign-aligned, at least memory_needed(config) bytes, owned by the
  // server from now on). Sizes: max_resources >= 1, dedup_entries >= 1, max_message in [64, 65507].
  Status init(const ServerConfig& config, void* memory, size_t size);

  // Registers a read-only resource (GET, text/plain). `path` is "/a/b" (no empty segment, not
  // /.well-known/core); `attributes` its RFC 6690 link parameters as they are to appear after
  // "<path>" in /.well-known/core (e.g. `;rt="temperature-c";ct=0`, may be ""). Both strings must
  // outlive the server (string literals do).
  Status add_reading(const char* path, const char* attributes, ReadFn read, void* context);
  // Registers a resource that stores what a PUT sends (text/plain, up to `capacity` bytes, taken
  // from ServerConfig::store_bytes) and returns it on GET; it starts as `initial`.
  Status add_store(const char* path, const char* attributes, uint32_t capacity, const char* initial = "");
  // The value a store resource holds now (for the tenant to act on); false if there is no such one.
  bool stored_value(const char* path, const uint8_t** data, size_t* length) const;

  void handle(const net::Peer& from, const uint8_t* data, size_t len, net::ReplySink& out) override;

  const Counters& counters() const { return counters_; }

 private:
  enum class Kind : uint8_t { kReading, kStore };
  struct Resource {
    const char* path;
    const char* attributes;
    uint16_t path_length;
    uint16_t attributes_length;
    Kind kind;
    ReadFn read;
    void* context;
    uint8_t* value;
    uint32_t capacity;
    uint32_t length;
  };
  // One remembered exchange. reply_length 0: nothing to send again (a Non-confirmable request, or
  // one that was rejected).
  struct CacheEntry {
    uint64_t stamp_ms;
    uint32_t ipv4;
    uint32_t fingerprint;
    uint16_t port;
    uint16_t message_id;
    uint16_t reply_length;
    bool used;
    bool confirmable;
  };

  static constexpr size_t align_up(size_t n) { return (n + kMemoryAlign - 1) & ~(kMemoryAlign - 1); }
  Status add(const char* path, const char* attributes, Kind kind, Resource*& out);
  size_t link_format_size_with(size_t path_length, size_t attributes_length) const;
  CacheEntry* find_duplicate(const net::Peer& from, uint16_t message_id, uint32_t fingerprint, uint64_t now_ms);
  // Processes a request; builds its response into `b` (header written) or returns false to reject
  // it silently (a Non-confirmable request with a bad critical option).
  bool respond(const Message& m, Builder& b);
  void write_link_format(const Message& m, Builder& b) const;
  void send(net::ReplySink& out, const uint8_t* data, size_t len);
  uint64_t now() const { return config_.now_ms != nullptr ? config_.now_ms(config_.clock_context) : 0; }

  ServerConfig config_{};
  bool ready_ = false;
  Resource* resources_ = nullptr;
  uint16_t resource_count_ = 0;
  CacheEntry* cache_ = nullptr;
  uint8_t* replies_ = nullptr;  // dedup_entries slots of max_message bytes
  uint16_t next_slot_ = 0;
  uint8_t* store_ = nullptr;
  uint32_t store_used_ = 0;
  size_t link_format_size_ = 0;  // the /.well-known/core payload with every resource listed
  uint16_t next_message_id_ = 0;
  Counters counters_{};
};

constexpr size_t Server::memory_needed(const ServerConfig& config) {
  return align_up(size_t{config.max_resources} * sizeof(Resource)) +
         align_up(size_t{config.dedup_entries} * sizeof(CacheEntry)) +
         align_up(size_t{config.dedup_entries} * config.max_message) + align_up(config.store_bytes);
}

}  // namespace edgeos::apps::coap
