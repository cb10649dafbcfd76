// CoAP messages (RFC 7252 section 3): parsing a datagram in place and building one into a buffer.
//
// Freestanding like the rest of the CoAP tenant: no heap, no exceptions, no library calls beyond
// mem*. A parsed Message points into the datagram it came from; nothing is copied.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace edgeos::apps::coap {

// The message types (section 3, "T").
enum class Type : uint8_t { kCon = 0, kNon = 1, kAck = 2, kRst = 3 };

// A code "c.dd" as its byte: class in the top three bits, detail in the low five (section 3).
constexpr uint8_t make_code(uint8_t cls, uint8_t detail) { return static_cast<uint8_t>(cls << 5 | detail); }
constexpr uint8_t code_class(uint8_t code) { return code >> 5; }

// The codes this server reads or writes (section 12.1).
namespace code {
inline constexpr uint8_t kEmpty = make_code(0, 0);
inline constexpr uint8_t kGet = make_code(0, 1);
inline constexpr uint8_t kPost = make_code(0, 2);
inline constexpr uint8_t kPut = make_code(0, 3);
inline constexpr uint8_t kDelete = make_code(0, 4);
inline constexpr uint8_t kChanged = make_code(2, 4);
inline constexpr uint8_t kContent = make_code(2, 5);
inline constexpr uint8_t kBadOption = make_code(4, 2);
inline constexpr uint8_t kNotFound = make_code(4, 4);
inline constexpr uint8_t kMethodNotAllowed = make_code(4, 5);
inline constexpr uint8_t kNotAcceptable = make_code(4, 6);
inline constexpr uint8_t kPreconditionFailed = make_code(4, 12);
inline constexpr uint8_t kRequestEntityTooLarge = make_code(4, 13);
inline constexpr uint8_t kUnsupportedContentFormat = make_code(4, 15);
inline constexpr uint8_t kInternalServerError = make_code(5, 0);
inline constexpr uint8_t kServiceUnavailable = make_code(5, 3);
inline constexpr uint8_t kProxyingNotSupported = make_code(5, 5);
}  // namespace code

// Option numbers (section 5.10, registry in section 12.2).
namespace option {
inline constexpr uint16_t kIfMatch = 1;
inline constexpr uint16_t kUriHost = 3;
inline constexpr uint16_t kETag = 4;
inline constexpr uint16_t kIfNoneMatch = 5;
inline constexpr uint16_t kUriPort = 7;
inline constexpr uint16_t kLocationPath = 8;
inline constexpr uint16_t kUriPath = 11;
inline constexpr uint16_t kContentFormat = 12;
inline constexpr uint16_t kMaxAge = 14;
inline constexpr uint16_t kUriQuery = 15;
inline constexpr uint16_t kAccept = 17;
inline constexpr uint16_t kLocationQuery = 20;
inline constexpr uint16_t kProxyUri = 35;
inline constexpr uint16_t kProxyScheme = 39;
inline constexpr uint16_t kSize1 = 60;
}  // namespace option

// Section 5.4.6: an odd option number is critical, an even one elective.
constexpr bool is_critical(uint16_t number) { return (number & 1) != 0; }

// Content-Format identifiers (section 12.3; 40 from RFC 6690 section 7.2).
namespace format {
inline constexpr uint16_t kTextPlain = 0;
inline constexpr uint16_t kLinkFormat = 40;
}  // namespace format

inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kHeaderSize = 4;
inline constexpr uint8_t kMaxTokenLength = 8;
inline constexpr uint8_t kPayloadMarker = 0xFF;

// What parse() made of a datagram. The order matters to the server: for kFormatError the header
// fields of the Message are valid (a Confirmable one is answered with a Reset, section 4.2).
enum class ParseResult : uint8_t {
  kOk,
  kTooShort,     // under 4 bytes: no Message ID to answer with, so it can only be dropped
  kBadVersion,   // version other than 1: silently ignored (section 3)
  kFormatError,  // sections 3, 3.1, 4.1: bad token length, option encoding, empty payload, ...
};

// A message parsed in place. Valid while the datagram's bytes are.
struct Message {
  Type type = Type::kCon;
  uint8_t code = 0;
  uint16_t message_id = 0;
  uint8_t token_length = 0;
  const uint8_t* token = nullptr;
  // The options, already checked to be well formed; walk them with OptionIterator.
  const uint8_t* options = nullptr;
  size_t options_length = 0;
  const uint8_t* payload = nullptr;  // nullptr with length 0 when there is no payload marker
  size_t payload_length = 0;
};

// Parses one datagram. Never reads outside [data, data + len).
ParseResult parse(const uint8_t* data, size_t len, Message& out);

struct Option {
  uint16_t number = 0;
  const uint8_t* value = nullptr;
  size_t length = 0;
};

// Walks the options of a parsed Message in order (numbers never decrease, section 3.1).
class OptionIterator {
 public:
  explicit OptionIterator(const Message& m) : p_(m.options), end_(m.options + m.options_length) {}
  // The next option; false after the last one.
  bool next(Option& out);

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  uint32_t number_ = 0;
};

// Section 3.2, "uint": big endian in as few bytes as possible; a value longer than 4 bytes does
// not fit this server's options and reads as `fallback`.
uint32_t decode_uint(const uint8_t* value, size_t length, uint32_t fallback = 0);

// Builds one message into a caller's buffer, in the order the format has: header and token, then
// options in non-decreasing number, then the payload. A write that does not fit marks the builder
// failed (ok() == false) and every later write is ignored, so a caller checks once at the end.
class Builder {
 public:
  Builder(uint8_t* buffer, size_t capacity) : buf_(buffer), cap_(capacity) {}

  // The 4-byte header and the token (section 3).
  void header(Type type, uint8_t code, uint16_t message_id, const uint8_t* token, uint8_t token_length);
  // Changes the code of the header already written (a handler decides it after the options).
  void set_code(uint8_t code);
  // Drops every option and the payload written after the header and token, and clears a failure:
  // a handler that cannot finish its response answers with a bare code instead.
  void clear_body();
  // One option; numbers must not decrease (a smaller one fails the builder).
  void add_option(uint16_t number, const uint8_t* value, size_t length);
  void add_uint_option(uint16_t number, uint32_t value);
  // The payload: begin_payload() writes the marker, append() adds bytes, end_payload() removes the
  // marker again if nothing followed it (a marker with an empty payload is a format error).
  void begin_payload();
  void append(const void* data, size_t length);
  void append_char(char c) { append(&c, 1); }
  void end_payload();
  // Room left for a payload written in place, and the commit of `n` bytes written there.
  uint8_t* tail(size_t& room);
  void commit(size_t n);

  bool ok() const { return ok_; }
  size_t size() const { return len_; }
  const uint8_t* data() const { return buf_; }

 private:
  bool reserve(size_t n);

  uint8_t* buf_;
  size_t cap_;
  size_t len_ = 0;
  size_t header_length_ = 0;  // header and token; 0 before header()
  uint32_t last_option_ = 0;
  size_t marker_at_ = 0;  // where begin_payload() put the marker (0: none)
  bool ok_ = true;
};

}  // namespace edgeos::apps::coap
