// The CoAP server (see server.hpp for what it does and where it departs from RFC 7252).
#include "edgeos/apps/coap/server.hpp"

namespace edgeos::apps::coap {

namespace {

constexpr size_t length_of(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

bool bytes_equal(const void* a, const void* b, size_t n) { return n == 0 || __builtin_memcmp(a, b, n) == 0; }

// FNV-1a, 32 bits: the fingerprint that tells a retransmission from a new message reusing an ID.
uint32_t fingerprint(const uint8_t* data, size_t len) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; ++i) h = (h ^ data[i]) * 16777619u;
  return h;
}

// The options of RFC 7252's table (section 5.10) with their value lengths and whether they may
// repeat. A request's option that is not here is unrecognised.
struct OptionRule {
  uint16_t number;
  uint16_t min_length;
  uint16_t max_length;
  bool repeatable;
};
constexpr OptionRule kOptionRules[] = {
    {option::kIfMatch, 0, 8, true},        {option::kUriHost, 1, 255, false},
    {option::kETag, 1, 8, true},           {option::kIfNoneMatch, 0, 0, false},
    {option::kUriPort, 0, 2, false},       {option::kLocationPath, 0, 255, true},
    {option::kUriPath, 0, 255, true},      {option::kContentFormat, 0, 2, false},
    {option::kMaxAge, 0, 4, false},        {option::kUriQuery, 0, 255, true},
    {option::kAccept, 0, 2, false},        {option::kLocationQuery, 0, 255, true},
    {option::kProxyUri, 1, 1034, false},   {option::kProxyScheme, 1, 255, false},
    {option::kSize1, 0, 4, false},
};

const OptionRule* rule_for(uint16_t number) {
  for (const OptionRule& r : kOptionRules) {
    if (r.number == number) return &r;
  }
  return nullptr;
}

// What a request's options ask for, after the rules of section 5.4.
struct RequestOptions {
  bool bad_critical = false;  // an unrecognised critical option (5.4.1, 5.4.3, 5.4.5)
  uint16_t bad_number = 0;    // the first one
  bool proxy = false;         // Proxy-Uri or Proxy-Scheme (5.10.2)
  bool has_accept = false;
  uint16_t accept = 0;
  bool has_content_format = false;
  uint16_t content_format = 0;
  bool if_none_match = false;
  bool has_if_match = false;
  bool if_match_empty = false;  // an If-Match with an empty value: "the resource exists" (5.10.8.1)
};

RequestOptions scan_options(const Message& m) {
  RequestOptions r;
  OptionIterator it(m);
  Option o;
  int32_t previous = -1;
  while (it.next(o)) {
    const OptionRule* rule = rule_for(o.number);
    // Section 5.4.5: occurrences beyond what the option allows are treated like unrecognised
    // options; section 5.4.3: so is a value whose length is outside the option's range. Options
    // come in number order (3.1), so a repetition follows its first occurrence directly.
    const bool supernumerary = rule != nullptr && !rule->repeatable && o.number == previous;
    previous = o.number;
    const bool recognised = rule != nullptr && !supernumerary && o.length >= rule->min_length &&
                            o.length <= rule->max_length;
    if (!recognised) {
      // Section 5.4.1: unrecognised elective options are silently ignored.
      if (is_critical(o.number) && !r.bad_critical) {
        r.bad_critical = true;
        r.bad_number = o.number;
      }
      continue;
    }
    switch (o.number) {
      case option::kProxyUri:
      case option::kProxyScheme:
        r.proxy = true;
        break;
      case option::kAccept:
        r.has_accept = true;
        r.accept = static_cast<uint16_t>(decode_uint(o.value, o.length));
        break;
      case option::kContentFormat:
        r.has_content_format = true;
        r.content_format = static_cast<uint16_t>(decode_uint(o.value, o.length));
        break;
      case option::kIfNoneMatch:
        r.if_none_match = true;
        break;
      case option::kIfMatch:
        r.has_if_match = true;
        if (o.length == 0) r.if_match_empty = true;
        break;
      default:  // Uri-Host/Uri-Port (one virtual server), Uri-Path/Uri-Query (read where used),
        break;  // ETag, Max-Age, Location-*, Size1: nothing for this server to do with them.
    }
  }
  return r;
}

// Does the request's Uri-Path (option 11, one option per segment, section 5.10.1) name `path`
// ("/a/b")? Compared segment by segment, so a segment holding a '/' never matches.
bool path_matches(const Message& m, const char* path, size_t path_length) {
  OptionIterator it(m);
  Option o;
  size_t pos = 0;  // path[pos] == '/' begins the next segment
  while (it.next(o)) {
    if (o.number < option::kUriPath) continue;
    if (o.number > option::kUriPath) break;
    if (pos >= path_length) return false;
    const size_t start = pos + 1;
    size_t end = start;
    while (end < path_length && path[end] != '/') ++end;
    if (end - start != o.length || !bytes_equal(path + start, o.value, o.length)) return false;
    pos = end;
  }
  return pos == path_length;
}

constexpr char kWellKnownCore[] = "/.well-known/core";

// RFC 6690 section 4.1: a search value ending in '*' matches every value it is a prefix of.
bool value_matches(const char* value, size_t value_length, const uint8_t* pattern, size_t pattern_length) {
  if (pattern_length > 0 && pattern[pattern_length - 1] == '*') {
    const size_t prefix = pattern_length - 1;
    return value_length >= prefix && bytes_equal(value, pattern, prefix);
  }
  return value_length == pattern_length && bytes_equal(value, pattern, pattern_length);
}

// Relation-type link parameters hold space-separated lists; a search matches any element
// (RFC 6690 section 4.1).
bool is_list_parameter(const uint8_t* name, size_t length) {
  return (length == 2 && bytes_equal(name, "rt", 2)) || (length == 2 && bytes_equal(name, "if", 2)) ||
         (length == 3 && bytes_equal(name, "rel", 3));
}

// Does one resource's link (its path and `;name=value` parameters) match one Uri-Query
// "name=pattern" (RFC 6690 section 4.1)? A query without '=' asks for the parameter to be there.
bool link_matches(const char* path, size_t path_length, const char* attrs, size_t attrs_length, const Option& query) {
  const uint8_t* q = query.value;
  size_t name_length = 0;
  while (name_length < query.length && q[name_length] != '=') ++name_length;
  const bool has_value = name_length < query.length;
  const uint8_t* pattern = q + name_length + (has_value ? 1 : 0);
  const size_t pattern_length = has_value ? query.length - name_length - 1 : 0;
  if (name_length == 4 && bytes_equal(q, "href", 4)) {
    return !has_value || value_matches(path, path_length, pattern, pattern_length);
  }
  const bool list = is_list_parameter(q, name_length);
  size_t i = 0;
  while (i < attrs_length) {
    if (attrs[i] != ';') {
      ++i;
      continue;
    }
    ++i;
    const size_t name_start = i;
    while (i < attrs_length && attrs[i] != '=' && attrs[i] != ';') ++i;
    const size_t this_name_length = i - name_start;
    const char* value = attrs + i;
    size_t value_length = 0;
    if (i < attrs_length && attrs[i] == '=') {
      ++i;
      if (i < attrs_length && attrs[i] == '"') {
        value = attrs + ++i;
        while (i < attrs_length && attrs[i] != '"') ++i;
        value_length = static_cast<size_t>(attrs + i - value);
        if (i < attrs_length) ++i;
      } else {
        value = attrs + i;
        while (i < attrs_length && attrs[i] != ';') ++i;
        value_length = static_cast<size_t>(attrs + i - value);
      }
    }
    if (this_name_length != name_length || !bytes_equal(attrs + name_start, q, name_length)) continue;
    if (!has_value) return true;
    if (!list) {
      if (value_matches(value, value_length, pattern, pattern_length)) return true;
      continue;
    }
    size_t e = 0;
    while (e < value_length) {
      size_t f = e;
      while (f < value_length && value[f] != ' ') ++f;
      if (f > e && value_matches(value + e, f - e, pattern, pattern_length)) return true;
      e = f + 1;
    }
  }
  return false;
}

// A resource path as registration accepts it: "/seg(/seg)*", segments of 1-255 bytes of printable
// ASCII other than the characters that would break its link ("<path>") in /.well-known/core.
bool valid_path(const char* path, size_t length) {
  if (length < 2 || length > 1024 || path[0] != '/' || path[length - 1] == '/') return false;
  size_t segment = 0;
  for (size_t i = 1; i < length; ++i) {
    const char c = path[i];
    if (c == '/') {
      if (segment == 0) return false;
      segment = 0;
      continue;
    }
    if (c <= ' ' || c >= 0x7F || c == '<' || c == '>' || c == ',' || c == '"' || ++segment > 255) return false;
  }
  return true;
}

// Link parameters: empty, or ";..." of printable ASCII (RFC 6690 section 2's link-param list).
bool valid_attributes(const char* attrs, size_t length) {
  if (length > 1024 || (length > 0 && attrs[0] != ';')) return false;
  for (size_t i = 0; i < length; ++i) {
    if (attrs[i] < ' ' || attrs[i] >= 0x7F) return false;
  }
  return true;
}

// Header (4) + longest token (8) + Content-Format option (2) + payload marker (1).
constexpr size_t kContentOverhead = kHeaderSize + kMaxTokenLength + 2 + 1;

}  // namespace

Status Server::init(const ServerConfig& config, void* memory, size_t size) {
  if (ready_) return Status::kBadState;
  if (config.max_resources < 1 || config.dedup_entries < 1 || config.max_message < 64 || config.max_message > 65507) {
    return Status::kInvalidArgument;
  }
  if (memory == nullptr || reinterpret_cast<uintptr_t>(memory) % kMemoryAlign != 0 || size < memory_needed(config)) {
    return Status::kOutOfMemory;
  }
  config_ = config;
  uint8_t* p = static_cast<uint8_t*>(memory);
  __builtin_memset(p, 0, memory_needed(config));
  resources_ = reinterpret_cast<Resource*>(p);
  p += align_up(size_t{config.max_resources} * sizeof(Resource));
  cache_ = reinterpret_cast<CacheEntry*>(p);
  p += align_up(size_t{config.dedup_entries} * sizeof(CacheEntry));
  replies_ = p;
  p += align_up(size_t{config.dedup_entries} * config.max_message);
  store_ = p;
  resource_count_ = 0;
  next_slot_ = 0;
  store_used_ = 0;
  link_format_size_ = 0;
  next_message_id_ = config.first_message_id;
  counters_ = Counters{};
  ready_ = true;
  return Status::kOk;
}

size_t Server::link_format_size_with(size_t path_length, size_t attributes_length) const {
  // "<path>attrs", comma-separated (RFC 6690 section 2).
  return link_format_size_ + (resource_count_ > 0 ? 1 : 0) + path_length + 2 + attributes_length;
}

Status Server::add(const char* path, const char* attributes, Kind kind, Resource*& out) {
  if (!ready_) return Status::kBadState;
  if (path == nullptr || attributes == nullptr) return Status::kInvalidArgument;
  const size_t path_length = length_of(path);
  const size_t attributes_length = length_of(attributes);
  if (!valid_path(path, path_length) || !valid_attributes(attributes, attributes_length)) {
    return Status::kInvalidArgument;
  }
  if (path_length == sizeof kWellKnownCore - 1 && bytes_equal(path, kWellKnownCore, path_length)) {
    return Status::kDuplicate;
  }
  for (uint16_t i = 0; i < resource_count_; ++i) {
    const Resource& r = resources_[i];
    if (r.path_length == path_length && bytes_equal(r.path, path, path_length)) return Status::kDuplicate;
  }
  if (resource_count_ >= config_.max_resources) return Status::kOutOfCapacity;
  // No block-wise transfer: /.well-known/core must stay one message.
  const size_t links = link_format_size_with(path_length, attributes_length);
  if (links + kContentOverhead > config_.max_message) return Status::kOutOfCapacity;
  Resource& r = resources_[resource_count_];
  r = Resource{};
  r.path = path;
  r.attributes = attributes;
  r.path_length = static_cast<uint16_t>(path_length);
  r.attributes_length = static_cast<uint16_t>(attributes_length);
  r.kind = kind;
  out = &r;
  link_format_size_ = links;
  ++resource_count_;
  return Status::kOk;
}

Status Server::add_reading(const char* path, const char* attributes, ReadFn read, void* context) {
  if (read == nullptr) return ready_ ? Status::kInvalidArgument : Status::kBadState;
  Resource* r = nullptr;
  if (const Status s = add(path, attributes, Kind::kReading, r); s != Status::kOk) return s;
  r->read = read;
  r->context = context;
  return Status::kOk;
}

Status Server::add_store(const char* path, const char* attributes, uint32_t capacity, const char* initial) {
  if (!ready_) return Status::kBadState;
  if (initial == nullptr || capacity == 0) return Status::kInvalidArgument;
  const size_t initial_length = length_of(initial);
  if (initial_length > capacity) return Status::kInvalidArgument;
  // Its GET response must fit one message, and its bytes the shared store.
  if (capacity + kContentOverhead > config_.max_message || capacity > config_.store_bytes - store_used_) {
    return Status::kOutOfCapacity;
  }
  Resource* r = nullptr;
  if (const Status s = add(path, attributes, Kind::kStore, r); s != Status::kOk) return s;
  r->value = store_ + store_used_;
  r->capacity = capacity;
  r->length = static_cast<uint32_t>(initial_length);
  if (initial_length > 0) __builtin_memcpy(r->value, initial, initial_length);
  store_used_ += capacity;
  return Status::kOk;
}

bool Server::stored_value(const char* path, const uint8_t** data, size_t* length) const {
  if (!ready_ || path == nullptr) return false;
  const size_t n = length_of(path);
  for (uint16_t i = 0; i < resource_count_; ++i) {
    const Resource& r = resources_[i];
    if (r.kind == Kind::kStore && r.path_length == n && bytes_equal(r.path, path, n)) {
      if (data != nullptr) *data = r.value;
      if (length != nullptr) *length = r.length;
      return true;
    }
  }
  return false;
}

Server::CacheEntry* Server::find_duplicate(const net::Peer& from, uint16_t message_id, uint32_t print, uint64_t t) {
  for (uint16_t i = 0; i < config_.dedup_entries; ++i) {
    CacheEntry& e = cache_[i];
    if (!e.used || e.message_id != message_id || e.ipv4 != from.ipv4 || e.port != from.port ||
        e.fingerprint != print) {
      continue;
    }
    // Section 4.5: duplicates are detected within EXCHANGE_LIFETIME (Confirmable) or NON_LIFETIME.
    if (config_.now_ms != nullptr && t - e.stamp_ms > (e.confirmable ? kExchangeLifetimeMs : kNonLifetimeMs)) {
      e.used = false;
      continue;
    }
    return &e;
  }
  return nullptr;
}

void Server::send(net::ReplySink& out, const uint8_t* data, size_t len) {
  if (!out.send(data, len)) ++counters_.send_failures;
}

void Server::handle(const net::Peer& from, const uint8_t* data, size_t len, net::ReplySink& out) {
  ++counters_.datagrams;
  if (!ready_) {
    ++counters_.not_ready;
    return;
  }
  Message m;
  switch (parse(data, len, m)) {
    case ParseResult::kOk:
      break;
    case ParseResult::kTooShort:
      ++counters_.too_short;
      return;
    case ParseResult::kBadVersion:  // section 3: "silently ignored"
      ++counters_.bad_version;
      return;
    case ParseResult::kFormatError: {
      // Sections 4.2 and 4.3: a Confirmable message with a format error is rejected with a Reset
      // (an Empty message with its Message ID); any other one is silently ignored.
      ++counters_.format_errors;
      if (m.type == Type::kCon) {
        uint8_t rst[kHeaderSize];
        Builder b(rst, sizeof rst);
        b.header(Type::kRst, code::kEmpty, m.message_id, nullptr, 0);
        send(out, b.data(), b.size());
      }
      return;
    }
  }

  // This server sends no Confirmable messages, so no Acknowledgement or Reset can match anything
  // it is waiting for (4.2, 4.3: such messages are silently ignored).
  if (m.type == Type::kAck || m.type == Type::kRst) {
    ++counters_.acks_resets;
    return;
  }
  if (m.code == code::kEmpty || code_class(m.code) != 0) {
    // An Empty Confirmable message is a "CoAP ping" and provokes a Reset (4.3). A response (2.xx to
    // 5.xx) is not expected by a server and a reserved class (1, 6, 7; 12.1) cannot be processed:
    // rejected, with a Reset if Confirmable (4.2); an Empty Non-confirmable message is not allowed
    // (4.3) and ignored.
    if (m.code == code::kEmpty && m.type == Type::kCon) {
      ++counters_.pings;
    } else {
      ++counters_.rejected;
    }
    if (m.type == Type::kCon) {
      uint8_t rst[kHeaderSize];
      Builder b(rst, sizeof rst);
      b.header(Type::kRst, code::kEmpty, m.message_id, nullptr, 0);
      send(out, b.data(), b.size());
    }
    return;
  }

  // A request. Section 4.5: a duplicate is acknowledged again with the same response and not
  // processed again; a duplicate Non-confirmable one is ignored.
  const bool confirmable = m.type == Type::kCon;
  const uint32_t print = fingerprint(data, len);
  const uint64_t t = now();
  if (CacheEntry* e = find_duplicate(from, m.message_id, print, t)) {
    if (e->confirmable) {
      ++counters_.duplicates_con;
      const size_t index = static_cast<size_t>(e - cache_);
      if (e->reply_length > 0) send(out, replies_ + index * config_.max_message, e->reply_length);
    } else {
      ++counters_.duplicates_non;
    }
    return;
  }

  // Remember the exchange in the oldest slot of the ring, building the response in its buffer.
  const uint16_t slot = next_slot_;
  next_slot_ = static_cast<uint16_t>((next_slot_ + 1) % config_.dedup_entries);
  CacheEntry& e = cache_[slot];
  e = CacheEntry{t, from.ipv4, print, from.port, m.message_id, 0, true, confirmable};
  uint8_t* reply = replies_ + size_t{slot} * config_.max_message;
  Builder b(reply, config_.max_message);
  // Section 5.2.1: a piggybacked response has the request's Message ID; 5.2.3: a response to a
  // Non-confirmable request is Non-confirmable, with a Message ID of our own. Both echo the
  // token (5.3.2).
  const uint16_t reply_id = confirmable ? m.message_id : next_message_id_++;
  const Type reply_type = confirmable ? Type::kAck : Type::kNon;
  b.header(reply_type, code::kEmpty, reply_id, m.token, m.token_length);
  ++counters_.requests;
  if (!respond(m, b)) return;
  if (!b.ok()) {
    // Registration keeps every response within max_message; a sensor whose reading does not fit
    // ends here.
    b.clear_body();
    b.set_code(code::kInternalServerError);
  }
  switch (reply[1]) {
    case code::kContent: ++counters_.content; break;
    case code::kChanged: ++counters_.changed; break;
    case code::kBadOption: ++counters_.bad_option; break;
    case code::kNotFound: ++counters_.not_found; break;
    case code::kMethodNotAllowed: ++counters_.method_not_allowed; break;
    case code::kNotAcceptable: ++counters_.not_acceptable; break;
    case code::kPreconditionFailed: ++counters_.precondition_failed; break;
    case code::kRequestEntityTooLarge: ++counters_.too_large; break;
    case code::kUnsupportedContentFormat: ++counters_.unsupported_format; break;
    case code::kServiceUnavailable: ++counters_.unavailable; break;
    case code::kProxyingNotSupported: ++counters_.proxying_not_supported; break;
    default: ++counters_.internal_error; break;
  }
  if (confirmable) e.reply_length = static_cast<uint16_t>(b.size());
  send(out, reply, b.size());
}

bool Server::respond(const Message& m, Builder& b) {
  const RequestOptions o = scan_options(m);
  if (o.bad_critical) {
    // Section 5.4.1: 4.02 for a Confirmable request, with a diagnostic payload (5.5.2) naming
    // the option; a Non-confirmable message with one is rejected (4.3), i.e. ignored.
    if (m.type == Type::kNon) {
      ++counters_.rejected_options;
      return false;
    }
    b.set_code(code::kBadOption);
    char text[24] = "bad option ";
    size_t n = 11;
    char digits[5];
    size_t d = 0;
    uint32_t v = o.bad_number;
    do {
      digits[d++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (d > 0) text[n++] = digits[--d];
    b.begin_payload();
    b.append(text, n);
    b.end_payload();
    return true;
  }
  if (o.proxy) {  // Section 5.10.2: this server is no proxy.
    b.set_code(code::kProxyingNotSupported);
    return true;
  }

  if (path_matches(m, kWellKnownCore, sizeof kWellKnownCore - 1)) {
    // RFC 6690 section 4: GET only; application/link-format.
    if (m.code != code::kGet) {
      b.set_code(code::kMethodNotAllowed);
    } else if (o.has_accept && o.accept != format::kLinkFormat) {
      b.set_code(code::kNotAcceptable);  // Section 5.10.4.
    } else {
      b.set_code(code::kContent);
      b.add_uint_option(option::kContentFormat, format::kLinkFormat);
      write_link_format(m, b);
    }
    return true;
  }

  Resource* r = nullptr;
  for (uint16_t i = 0; i < resource_count_ && r == nullptr; ++i) {
    if (path_matches(m, resources_[i].path, resources_[i].path_length)) r = &resources_[i];
  }
  if (r == nullptr) {
    b.set_code(code::kNotFound);
    return true;
  }

  if (m.code == code::kGet) {
    if (o.has_accept && o.accept != format::kTextPlain) {
      b.set_code(code::kNotAcceptable);
      return true;
    }
    b.set_code(code::kContent);
    b.add_uint_option(option::kContentFormat, format::kTextPlain);
    b.begin_payload();
    if (r->kind == Kind::kStore) {
      b.append(r->value, r->length);
    } else {
      size_t room = 0;
      uint8_t* at = b.tail(room);
      size_t n = 0;
      if (!r->read(r->context, at, room, &n)) {
        b.clear_body();
        b.set_code(code::kServiceUnavailable);
        return true;
      }
      b.commit(n);  // more than `room` fails the builder: 5.00
    }
    b.end_payload();
    return true;
  }

  if (m.code == code::kPut && r->kind == Kind::kStore) {
    if (o.if_none_match) {
      // Section 5.10.8.2: If-None-Match makes a PUT conditional on the resource not existing.
      b.set_code(code::kPreconditionFailed);
    } else if (o.has_if_match && !o.if_match_empty) {
      // Section 5.10.8.1: an empty If-Match matches any existing representation; an ETag value
      // could only match one this server issued, and it issues none.
      b.set_code(code::kPreconditionFailed);
    } else if (o.has_content_format && o.content_format != format::kTextPlain) {
      b.set_code(code::kUnsupportedContentFormat);  // Section 5.9.2.10.
    } else if (m.payload_length > r->capacity) {
      // Section 5.9.2.9, with Size1 telling the largest accepted (5.10.9).
      b.set_code(code::kRequestEntityTooLarge);
      b.add_uint_option(option::kSize1, r->capacity);
    } else {
      if (m.payload_length > 0) __builtin_memcpy(r->value, m.payload, m.payload_length);
      r->length = static_cast<uint32_t>(m.payload_length);
      b.set_code(code::kChanged);  // Section 5.8.3.
    }
    return true;
  }

  // Section 5.8: a method the resource does not support, or one this server does not know.
  b.set_code(code::kMethodNotAllowed);
  return true;
}

void Server::write_link_format(const Message& m, Builder& b) const {
  b.begin_payload();
  bool first = true;
  for (uint16_t i = 0; i < resource_count_; ++i) {
    const Resource& r = resources_[i];
    // RFC 6690 section 4.1: each Uri-Query is a filter; all must match.
    OptionIterator it(m);
    Option o;
    bool match = true;
    while (match && it.next(o)) {
      if (o.number == option::kUriQuery) match = link_matches(r.path, r.path_length, r.attributes, r.attributes_length, o);
    }
    if (!match) continue;
    if (!first) b.append_char(',');
    first = false;
    b.append_char('<');
    b.append(r.path, r.path_length);
    b.append_char('>');
    b.append(r.attributes, r.attributes_length);
  }
  b.end_payload();
}

}  // namespace edgeos::apps::coap
