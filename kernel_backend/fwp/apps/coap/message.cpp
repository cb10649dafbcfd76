// CoAP message parsing and building (RFC 7252 section 3).
#include "edgeos/apps/coap/message.hpp"

namespace edgeos::apps::coap {

namespace {

// Section 3.1: a 4-bit Option Delta or Option Length field, with its extended forms. 13: one more
// byte holding the value minus 13; 14: two more bytes (network order) holding the value minus 269;
// 15: reserved (the whole byte 0xFF is the payload marker; anything else with 15 is a format
// error). Returns false on 15 or when the extension runs past `end`.
bool read_extended(uint8_t nibble, const uint8_t*& p, const uint8_t* end, uint32_t& value) {
  if (nibble < 13) {
    value = nibble;
    return true;
  }
  if (nibble == 13) {
    if (end - p < 1) return false;
    value = 13u + p[0];
    p += 1;
    return true;
  }
  if (nibble == 14) {
    if (end - p < 2) return false;
    value = 269u + (uint32_t{p[0]} << 8 | p[1]);
    p += 2;
    return true;
  }
  return false;
}

// The nibble and extension bytes that encode `value` (section 3.1); returns the extension length.
size_t encode_extended(uint32_t value, uint8_t& nibble, uint8_t ext[2]) {
  if (value < 13) {
    nibble = static_cast<uint8_t>(value);
    return 0;
  }
  if (value < 269) {
    nibble = 13;
    ext[0] = static_cast<uint8_t>(value - 13);
    return 1;
  }
  nibble = 14;
  const uint32_t v = value - 269;
  ext[0] = static_cast<uint8_t>(v >> 8);
  ext[1] = static_cast<uint8_t>(v);
  return 2;
}

// Reads one option header and value at p (p < end, *p is not the payload marker). Option numbers
// above 65535 do not exist (section 12.2's registry is 16 bits); one reached by deltas is treated
// as a format error.
bool read_option(const uint8_t*& p, const uint8_t* end, uint32_t& number, Option& out) {
  const uint8_t first = *p++;
  uint32_t delta = 0, length = 0;
  if (!read_extended(first >> 4, p, end, delta)) return false;
  if (!read_extended(first & 0x0F, p, end, length)) return false;
  if (static_cast<size_t>(end - p) < length) return false;  // the value runs past the datagram
  number += delta;
  if (number > 0xFFFF) return false;
  out.number = static_cast<uint16_t>(number);
  out.value = p;
  out.length = length;
  p += length;
  return true;
}

}  // namespace

ParseResult parse(const uint8_t* data, size_t len, Message& out) {
  out = Message{};
  if (data == nullptr || len < kHeaderSize) return ParseResult::kTooShort;
  // Section 3: Ver (2 bits), T (2), TKL (4) | Code | Message ID (network order).
  if ((data[0] >> 6) != kVersion) return ParseResult::kBadVersion;
  out.type = static_cast<Type>((data[0] >> 4) & 0x03);
  out.token_length = data[0] & 0x0F;
  out.code = data[1];
  out.message_id = static_cast<uint16_t>(data[2] << 8 | data[3]);
  // Section 3: token lengths 9-15 are reserved and "MUST be processed as a message format error".
  if (out.token_length > kMaxTokenLength) return ParseResult::kFormatError;
  // Section 4.1: an Empty message (0.00) has TKL 0 and nothing after the Message ID.
  if (out.code == code::kEmpty && (out.token_length != 0 || len != kHeaderSize)) return ParseResult::kFormatError;
  if (len - kHeaderSize < out.token_length) return ParseResult::kFormatError;
  out.token = data + kHeaderSize;

  const uint8_t* p = out.token + out.token_length;
  const uint8_t* const end = data + len;
  out.options = p;
  uint32_t number = 0;
  Option o;
  while (p < end) {
    if (*p == kPayloadMarker) {
      // Section 3: "The presence of a marker followed by a zero-length payload MUST be processed as
      // a message format error."
      if (end - p == 1) return ParseResult::kFormatError;
      out.options_length = static_cast<size_t>(p - out.options);
      out.payload = p + 1;
      out.payload_length = static_cast<size_t>(end - p - 1);
      return ParseResult::kOk;
    }
    if (!read_option(p, end, number, o)) return ParseResult::kFormatError;
  }
  out.options_length = static_cast<size_t>(p - out.options);
  return ParseResult::kOk;
}

bool OptionIterator::next(Option& out) {
  // The region was validated by parse(); the checks in read_option still hold a caller who built
  // a Message by hand to the same bounds.
  if (p_ >= end_ || *p_ == kPayloadMarker) return false;
  if (!read_option(p_, end_, number_, out)) {
    p_ = end_;
    return false;
  }
  return true;
}

uint32_t decode_uint(const uint8_t* value, size_t length, uint32_t fallback) {
  if (length > 4) return fallback;
  uint32_t v = 0;
  for (size_t i = 0; i < length; ++i) v = v << 8 | value[i];
  return v;
}

bool Builder::reserve(size_t n) {
  if (!ok_ || cap_ - len_ < n) {
    ok_ = false;
    return false;
  }
  return true;
}

void Builder::header(Type type, uint8_t code, uint16_t message_id, const uint8_t* token, uint8_t token_length) {
  len_ = 0;
  header_length_ = 0;
  last_option_ = 0;
  marker_at_ = 0;
  ok_ = true;
  if (token_length > kMaxTokenLength) token_length = kMaxTokenLength;  // callers pass parsed tokens
  if (!reserve(kHeaderSize + token_length)) return;
  buf_[0] = static_cast<uint8_t>(kVersion << 6 | static_cast<uint8_t>(type) << 4 | token_length);
  buf_[1] = code;
  buf_[2] = static_cast<uint8_t>(message_id >> 8);
  buf_[3] = static_cast<uint8_t>(message_id);
  if (token_length > 0) __builtin_memcpy(buf_ + kHeaderSize, token, token_length);
  len_ = kHeaderSize + token_length;
  header_length_ = len_;
}

void Builder::set_code(uint8_t code) {
  if (len_ >= kHeaderSize) buf_[1] = code;
}

void Builder::clear_body() {
  if (header_length_ == 0) return;  // no header was written (or it did not fit): stays failed
  len_ = header_length_;
  last_option_ = 0;
  marker_at_ = 0;
  ok_ = true;
}

void Builder::add_option(uint16_t number, const uint8_t* value, size_t length) {
  if (!ok_) return;
  if (number < last_option_ || marker_at_ != 0 || len_ < kHeaderSize || length > 65804) {
    ok_ = false;
    return;
  }
  uint8_t delta_nibble = 0, length_nibble = 0, delta_ext[2] = {}, length_ext[2] = {};
  const size_t nd = encode_extended(number - last_option_, delta_nibble, delta_ext);
  const size_t nl = encode_extended(static_cast<uint32_t>(length), length_nibble, length_ext);
  if (!reserve(1 + nd + nl + length)) return;
  uint8_t* p = buf_ + len_;
  *p++ = static_cast<uint8_t>(delta_nibble << 4 | length_nibble);
  for (size_t i = 0; i < nd; ++i) *p++ = delta_ext[i];
  for (size_t i = 0; i < nl; ++i) *p++ = length_ext[i];
  if (length > 0) __builtin_memcpy(p, value, length);
  len_ += 1 + nd + nl + length;
  last_option_ = number;
}

void Builder::add_uint_option(uint16_t number, uint32_t value) {
  // Section 3.2: as few bytes as possible; zero is the empty value.
  uint8_t bytes[4];
  size_t n = 0;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const uint8_t b = static_cast<uint8_t>(value >> shift);
    if (n > 0 || b != 0) bytes[n++] = b;
  }
  add_option(number, bytes, n);
}

void Builder::begin_payload() {
  if (marker_at_ != 0 || len_ < kHeaderSize || !reserve(1)) return;
  marker_at_ = len_;
  buf_[len_++] = kPayloadMarker;
}

void Builder::append(const void* data, size_t length) {
  if (marker_at_ == 0) {
    ok_ = false;
    return;
  }
  if (length == 0 || !reserve(length)) return;
  __builtin_memcpy(buf_ + len_, data, length);
  len_ += length;
}

void Builder::end_payload() {
  if (marker_at_ != 0 && len_ == marker_at_ + 1) {
    len_ = marker_at_;
    marker_at_ = 0;
  }
}

uint8_t* Builder::tail(size_t& room) {
  room = ok_ && marker_at_ != 0 ? cap_ - len_ : 0;
  return buf_ + len_;
}

void Builder::commit(size_t n) {
  if (marker_at_ == 0 || !reserve(n)) return;
  len_ += n;
}

}  // namespace edgeos::apps::coap
