// The memcached protocol over UDP (see engine.hpp).
//
// How memcached 1.6 answers over UDP, as observed (the differential test in tests/ keeps us
// honest), beyond what protocol.txt spells out:
//
// - A datagram may hold several commands; each gets its reply, and every reply is a message of its
//   own: its own sequence numbers from 0, its own total, all under the request's id.
// - A get's reply is several messages: one per hit ("VALUE ..." and the data), END joining the
//   last key's message (alone if the last key missed). A get whose first key misses and that has
//   more keys sends an empty message first (a bare frame header, total 0), unless replies from
//   earlier commands of the datagram are still waiting to go out (see below).
// - Replies to commands other than get wait and go out with the next get's, or after the 21st,
//   41st, ... command of the datagram (memcached yields every 20 requests), or at its end. A get
//   with a key longer than 250 bytes discards the waiting replies with its own and answers only
//   CLIENT_ERROR.
// - A command line ends at '\n' (an '\r' before it is dropped) and at its first NUL byte. Words
//   are separated by one or more spaces (tabs belong to the word). Numbers are read as C's strtoull
//   and strtol read them (leading whitespace, a sign, then up to the first space or end), then cut
//   to the field's width: flags to 32 bits, exptime and the length to signed 32 bits.
// - A line with no '\n' by the datagram's end is ignored; so is a command whose data block runs
//   past the end, together with the replies still waiting (memcached waits for the rest in the
//   next datagram, whatever client sends it; we drop it).
// - `incr`/`decr` rewrite the value in place when the result is not longer, padded with spaces
//   ("MAY be space-padded", protocol.txt); a longer result makes a new item.
// - Every store and every incr/decr takes the next cas unique, from 1.
#include "edgeos/apps/memcached/engine.hpp"

namespace edgeos::apps::memcached {

namespace {

constexpr uint32_t kMagic = 0x4d43454e;  // "MCEN"
constexpr uint32_t kVersion = 1;
constexpr size_t kMaxPayload = Engine::kMaxDatagram - Engine::kFrameHeader;  // 1392
constexpr int64_t kRelativeExptimeLimit = 60 * 60 * 24 * 30;  // protocol.txt: 30 days
// Pending replies: at most the 21 commands before the first yield, each with at most one reply.
constexpr uint32_t kMaxPending = 32;
constexpr uint32_t kYieldEvery = 20;  // memcached's -R default (requests per event)

// Replies that wait (all but get's).
enum class Reply : uint8_t {
  kStored,
  kNotStored,
  kDeleted,
  kNotFound,
  kError,
  kBadFormat,
  kBadChunk,
  kDeleteUsage,
  kBadDelta,
  kNonNumeric,
  kTooLarge,
  kNoMemoryStoring,
  kNoMemory,
  kNumber,  // incr/decr's result
};

struct Text {
  const char* s;
  uint8_t n;
};

template <size_t N>
constexpr Text text(const char (&s)[N]) {
  return Text{s, static_cast<uint8_t>(N - 1)};
}

constexpr Text kReplyText[] = {
    text("STORED\r\n"),
    text("NOT_STORED\r\n"),
    text("DELETED\r\n"),
    text("NOT_FOUND\r\n"),
    text("ERROR\r\n"),
    text("CLIENT_ERROR bad command line format\r\n"),
    text("CLIENT_ERROR bad data chunk\r\n"),
    text("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n"),
    text("CLIENT_ERROR invalid numeric delta argument\r\n"),
    text("CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"),
    text("SERVER_ERROR object too large for cache\r\n"),
    text("SERVER_ERROR out of memory storing object\r\n"),
    text("SERVER_ERROR out of memory\r\n"),
    text(""),
};

struct Pending {
  Reply reply;
  uint64_t number;
};

struct Word {
  const uint8_t* p = nullptr;
  size_t n = 0;

  template <size_t N>
  bool is(const char (&s)[N]) const {
    return n == N - 1 && __builtin_memcmp(p, s, N - 1) == 0;
  }
};

bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

// The number at the start of [p, end), read as strtoull/strtol read it: leading whitespace, an
// optional sign, at least one decimal digit; it must be followed by whitespace, a NUL or the end.
struct Scan {
  bool ok = false;
  bool negative = false;
  bool overflow = false;  // beyond 2^64 - 1
  uint64_t magnitude = 0;
};

template <class Next>
Scan scan_number(Next next) {
  Scan s;
  int c = next();
  while (c >= 0 && is_space(static_cast<uint8_t>(c))) c = next();
  if (c == '+' || c == '-') {
    s.negative = c == '-';
    c = next();
  }
  bool digits = false;
  while (c >= '0' && c <= '9') {
    digits = true;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (s.magnitude > (UINT64_MAX - d) / 10) s.overflow = true;
    s.magnitude = s.magnitude * 10 + d;
    c = next();
  }
  s.ok = digits && (c < 0 || c == 0 || is_space(static_cast<uint8_t>(c)));
  return s;
}

// memcached's safe_strtoull: the value modulo 2^64 of a signed number, refused on overflow and
// when a minus sign made it look negative.
bool to_u64(const Scan& s, uint64_t& out) {
  if (!s.ok || s.overflow) return false;
  const uint64_t v = s.negative ? 0 - s.magnitude : s.magnitude;
  if (s.negative && static_cast<int64_t>(v) < 0) return false;
  out = v;
  return true;
}

// memcached's safe_strtol: a signed 64-bit number, refused when out of range.
bool to_i64(const Scan& s, int64_t& out) {
  if (!s.ok || s.overflow) return false;
  constexpr uint64_t kMaxPositive = uint64_t{INT64_MAX};
  if (s.negative) {
    if (s.magnitude > kMaxPositive + 1) return false;
    out = static_cast<int64_t>(0 - s.magnitude);
  } else {
    if (s.magnitude > kMaxPositive) return false;
    out = static_cast<int64_t>(s.magnitude);
  }
  return true;
}

Scan scan_word(const Word& w) {
  size_t i = 0;
  return scan_number([&]() -> int { return i < w.n ? w.p[i++] : -1; });
}

bool parse_u64(const Word& w, uint64_t& out) { return to_u64(scan_word(w), out); }
bool parse_i64(const Word& w, int64_t& out) { return to_i64(scan_word(w), out); }

size_t format_u64(uint64_t v, uint8_t* out) {
  uint8_t tmp[20];
  size_t n = 0;
  do {
    tmp[n++] = static_cast<uint8_t>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}

uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

uintptr_t align_up(uintptr_t v, uintptr_t a) { return (v + a - 1) & ~(a - 1); }

}  // namespace

namespace detail {

struct EngineState {
  uint32_t magic;
  uint32_t version;
  uint64_t region_bytes;
  uint64_t max_item_bytes;
  int64_t (*clock)(void* context);
  void* clock_context;
  uint64_t last_cas;
  Counters counters;
  // The request being handled: replies waiting to go out, and the datagram being filled.
  uint32_t pending_count;
  Pending pending[kMaxPending];
  uint16_t request_id;
  uint16_t unit_seq;
  uint16_t unit_total;
  bool tx_failed;
  uint32_t tx_fill;
  uint8_t tx[Engine::kMaxDatagram];
};

static_assert(sizeof(EngineState) + 64 <= Engine::kStateBytes);

}  // namespace detail

using detail::EngineState;

namespace {

// One request datagram's commands, in order.
class Session {
 public:
  Session(EngineState& st, ItemStore& store, net::ReplySink& out, uint32_t now)
      : st_(st), c_(st.counters), store_(store), out_(out), now_(now) {}

  void run(const uint8_t* p, size_t n);

 private:
  enum class Next : uint8_t { kContinue, kDrop };  // kDrop: the rest of the datagram is dropped

  Next command(const uint8_t* line, size_t len);
  void get(const uint8_t* line, size_t len, const Word& first_key, bool with_cas);
  Next storage(const Word* w, uint32_t nwords);
  void remove(const Word* w, uint32_t nwords);
  void arithmetic(const Word* w, uint32_t nwords, bool incr);
  uint32_t expiry(int32_t exptime, bool& expired_now) const;
  bool read_counter(ItemStore::Ref item, uint64_t& value) const;

  void reply(Reply r, bool noreply, uint64_t number = 0);
  void flush_pending();
  // A reply message: unit_begin(total bytes), unit_put...(), unit_end().
  void unit_begin(size_t total);
  void unit_put(const uint8_t* p, size_t n);
  void unit_put_value(ItemStore::Cursor& cursor, size_t n);
  void unit_end();
  void send_datagram();

  EngineState& st_;
  Counters& c_;
  ItemStore& store_;
  net::ReplySink& out_;
  uint32_t now_;
  // Where the next line starts; data blocks advance it too.
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t pos_ = 0;
};

void Session::run(const uint8_t* p, size_t n) {
  data_ = p;
  size_ = n;
  pos_ = 0;
  st_.pending_count = 0;
  uint32_t count = 0;
  while (pos_ < size_) {
    size_t end = pos_;
    while (end < size_ && data_[end] != '\n') ++end;
    if (end == size_) {
      ++c_.partial_lines;
      break;
    }
    const uint8_t* line = data_ + pos_;
    size_t len = end - pos_;
    pos_ = end + 1;
    if (len > 0 && line[len - 1] == '\r') --len;
    for (size_t i = 0; i < len; ++i) {
      if (line[i] == 0) {
        len = i;
        break;
      }
    }
    ++count;
    ++c_.commands;
    if (command(line, len) == Next::kDrop) {
      ++c_.dropped_incomplete;
      st_.pending_count = 0;
      return;
    }
    if (count > kYieldEvery && (count - 1) % kYieldEvery == 0) flush_pending();
  }
  flush_pending();
}

Session::Next Session::command(const uint8_t* line, size_t len) {
  // The first words (a get's keys are read from the line again).
  constexpr uint32_t kKept = 8;
  Word w[kKept];
  uint32_t nwords = 0;
  for (size_t i = 0; i < len;) {
    while (i < len && line[i] == ' ') ++i;
    if (i == len) break;
    const size_t start = i;
    while (i < len && line[i] != ' ') ++i;
    if (nwords < kKept) w[nwords] = Word{line + start, i - start};
    ++nwords;
  }
  if (nwords == 0) {
    reply(Reply::kError, false);
    return Next::kContinue;
  }
  const Word& cmd = w[0];
  if ((cmd.is("get") || cmd.is("gets")) && nwords >= 2) {
    get(line, len, w[1], cmd.is("gets"));
  } else if ((cmd.is("set") || cmd.is("add") || cmd.is("replace")) && (nwords == 5 || nwords == 6)) {
    return storage(w, nwords);
  } else if (cmd.is("delete") && nwords >= 2 && nwords <= 4) {
    remove(w, nwords);
  } else if ((cmd.is("incr") || cmd.is("decr")) && (nwords == 3 || nwords == 4)) {
    arithmetic(w, nwords, cmd.is("incr"));
  } else {
    reply(Reply::kError, false);
  }
  return Next::kContinue;
}

void Session::get(const uint8_t* line, size_t len, const Word& first_key, bool with_cas) {
  const uint8_t* const end = line + len;
  // Every key is checked before anything is sent: one too long fails the whole command.
  for (const uint8_t* p = first_key.p; p < end;) {
    const uint8_t* k = p;
    while (p < end && *p != ' ') ++p;
    if (static_cast<size_t>(p - k) > ItemStore::kMaxKeyBytes) {
      st_.pending_count = 0;
      reply(Reply::kBadFormat, false);
      return;
    }
    while (p < end && *p == ' ') ++p;
  }
  // The empty first message goes out only if nothing was waiting before this get.
  bool empty_first_message = st_.pending_count == 0;
  flush_pending();

  for (const uint8_t* p = first_key.p; p < end;) {
    const uint8_t* key = p;
    while (p < end && *p != ' ') ++p;
    const size_t klen = static_cast<size_t>(p - key);
    while (p < end && *p == ' ') ++p;
    const bool last = p == end;
    ++c_.get_keys;

    const ItemStore::Ref item = store_.find(key, klen, now_);
    if (item == ItemStore::kNone) {
      ++c_.get_misses;
      if (last) {
        unit_begin(5);
        unit_put(reinterpret_cast<const uint8_t*>("END\r\n"), 5);
        unit_end();
      } else if (empty_first_message) {
        unit_begin(0);
        unit_end();
      }
      empty_first_message = false;
      continue;
    }
    ++c_.get_hits;
    empty_first_message = false;
    store_.touch(item);
    // "VALUE <key> <flags> <bytes>[ <cas unique>]\r\n<data>\r\n" and, after the last key, "END\r\n".
    uint8_t head[6 + ItemStore::kMaxKeyBytes + 3 * 21 + 2];
    size_t h = 0;
    __builtin_memcpy(head, "VALUE ", 6);
    h += 6;
    __builtin_memcpy(head + h, key, klen);
    h += klen;
    head[h++] = ' ';
    h += format_u64(store_.flags(item), head + h);
    head[h++] = ' ';
    const uint32_t vlen = store_.value_len(item);
    h += format_u64(vlen, head + h);
    if (with_cas) {
      head[h++] = ' ';
      h += format_u64(store_.cas(item), head + h);
    }
    head[h++] = '\r';
    head[h++] = '\n';
    unit_begin(h + vlen + 2 + (last ? 5 : 0));
    unit_put(head, h);
    ItemStore::Cursor value = store_.value(item);
    unit_put_value(value, vlen);
    unit_put(reinterpret_cast<const uint8_t*>(last ? "\r\nEND\r\n" : "\r\n"), last ? 7 : 2);
    unit_end();
  }
}

uint32_t Session::expiry(int32_t exptime, bool& expired_now) const {
  expired_now = false;
  if (exptime < 0) {
    expired_now = true;
    return 0;
  }
  if (exptime == 0 || now_ == 0) return 0;  // never, or no clock to tell
  if (exptime <= kRelativeExptimeLimit) {
    const uint64_t at = uint64_t{now_} + static_cast<uint64_t>(exptime);
    return at > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(at);
  }
  // Beyond 30 days it is a Unix time.
  if (static_cast<uint32_t>(exptime) <= now_) expired_now = true;
  return static_cast<uint32_t>(exptime);
}

Session::Next Session::storage(const Word* w, uint32_t nwords) {
  enum class Mode { kSet, kAdd, kReplace };
  const Mode mode = w[0].is("set") ? Mode::kSet : w[0].is("add") ? Mode::kAdd : Mode::kReplace;
  const bool noreply = nwords == 6 && w[5].is("noreply");
  const Word& key = w[1];
  uint64_t flags = 0;
  int64_t exptime = 0, length = 0;
  // These errors leave the data block to be read as commands, as memcached does.
  if (key.n > ItemStore::kMaxKeyBytes || !parse_u64(w[2], flags) || !parse_i64(w[3], exptime) ||
      !parse_i64(w[4], length)) {
    reply(Reply::kBadFormat, noreply);
    return Next::kContinue;
  }
  const int32_t vlen = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(length)));
  if (vlen < 0 || vlen > INT32_MAX - 2) {
    reply(Reply::kBadFormat, noreply);
    return Next::kContinue;
  }
  const size_t block = static_cast<size_t>(vlen) + 2;  // the data and its "\r\n"
  const bool complete = size_ - pos_ >= block;

  // Too large for the item limit or for the whole store: refused, the data block skipped, and a
  // set's old value gone (memcached unlinks it so that a failed set cannot leave stale data).
  const uint64_t chunks = ItemStore::chunks_for(key.n, static_cast<uint64_t>(vlen));
  const bool too_large = chunks * ItemStore::kChunkBytes > st_.max_item_bytes;
  if (too_large || chunks > store_.total_chunks()) {
    if (mode == Mode::kSet) {
      const ItemStore::Ref old = store_.find(key.p, key.n, now_);
      if (old != ItemStore::kNone) store_.remove(old);
    }
    if (!complete) return Next::kDrop;
    pos_ += block;
    reply(too_large ? Reply::kTooLarge : Reply::kNoMemoryStoring, noreply);
    return Next::kContinue;
  }
  if (!complete) return Next::kDrop;
  const uint8_t* value = data_ + pos_;
  pos_ += block;
  if (value[vlen] != '\r' || value[vlen + 1] != '\n') {
    reply(Reply::kBadChunk, noreply);
    return Next::kContinue;
  }

  bool expired_now = false;
  const uint32_t expires_at = expiry(static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(exptime))), expired_now);
  ItemStore::Ref old = store_.find(key.p, key.n, now_);
  if ((mode == Mode::kAdd && old != ItemStore::kNone) || (mode == Mode::kReplace && old == ItemStore::kNone)) {
    if (old != ItemStore::kNone) store_.touch(old);  // a refused add still counts as a use
    ++c_.not_stored;
    reply(Reply::kNotStored, noreply);
    return Next::kContinue;
  }
  const uint64_t cas = ++st_.last_cas;
  if (expired_now) {
    // Stored and expired at once: all that remains is that the old value is gone.
    if (old != ItemStore::kNone) store_.remove(old);
  } else {
    const ItemStore::Ref item = store_.allocate(key.p, key.n, static_cast<uint32_t>(vlen));
    if (item == ItemStore::kNone) {  // cannot happen: it fits the store (checked above)
      reply(Reply::kNoMemoryStoring, noreply);
      return Next::kContinue;
    }
    ItemStore::Cursor cursor = store_.value(item);
    cursor.write(value, static_cast<size_t>(vlen));
    store_.set_meta(item, static_cast<uint32_t>(flags), cas, expires_at);
    old = store_.find(key.p, key.n, now_);  // again: making room may have evicted it
    if (old != ItemStore::kNone) store_.remove(old);
    store_.link(item);
  }
  ++c_.stored;
  reply(Reply::kStored, noreply);
  return Next::kContinue;
}

void Session::remove(const Word* w, uint32_t nwords) {
  // "delete <key> [0] [noreply]": the 0 is a relic of delete's old hold time.
  bool noreply = false;
  if (nwords > 2) {
    const bool zero = w[2].is("0");
    noreply = w[nwords - 1].is("noreply");
    if (!((nwords == 3 && (zero || noreply)) || (nwords == 4 && zero && noreply))) {
      reply(Reply::kDeleteUsage, noreply);
      return;
    }
  }
  const Word& key = w[1];
  if (key.n > ItemStore::kMaxKeyBytes) {
    reply(Reply::kBadFormat, noreply);
    return;
  }
  const ItemStore::Ref item = store_.find(key.p, key.n, now_);
  if (item == ItemStore::kNone) {
    ++c_.delete_misses;
    reply(Reply::kNotFound, noreply);
    return;
  }
  store_.remove(item);
  ++c_.delete_hits;
  reply(Reply::kDeleted, noreply);
}

// The value as a number, the way memcached reads it: strtoull over the data, which in memcached's
// memory is followed by "\r\n", so digits may run to the value's end. (A value of whitespace only
// has no number: the scan stops at the end, where memcached's would run on past the "\r\n".)
bool Session::read_counter(ItemStore::Ref item, uint64_t& value) const {
  if (store_.value_len(item) == 0) return false;
  ItemStore::Cursor cursor = store_.value(item);
  const Scan s = scan_number([&]() -> int {
    uint8_t b;
    return cursor.next(b) ? b : -1;
  });
  return to_u64(s, value);
}

void Session::arithmetic(const Word* w, uint32_t nwords, bool incr) {
  const bool noreply = nwords == 4 && w[3].is("noreply");
  const Word& key = w[1];
  if (key.n > ItemStore::kMaxKeyBytes) {
    reply(Reply::kBadFormat, noreply);
    return;
  }
  uint64_t delta = 0;
  if (!parse_u64(w[2], delta)) {
    reply(Reply::kBadDelta, noreply);
    return;
  }
  const ItemStore::Ref item = store_.find(key.p, key.n, now_);
  if (item == ItemStore::kNone) {
    ++c_.incr_misses;
    reply(Reply::kNotFound, noreply);
    return;
  }
  uint64_t value = 0;
  if (!read_counter(item, value)) {
    reply(Reply::kNonNumeric, noreply);
    return;
  }
  ++c_.incr_hits;
  value = incr ? value + delta : (delta > value ? 0 : value - delta);  // incr wraps, decr stops at 0
  uint8_t digits[20];
  const size_t n = format_u64(value, digits);
  const uint64_t cas = ++st_.last_cas;
  const uint32_t old_len = store_.value_len(item);
  if (n <= old_len) {
    ItemStore::Cursor cursor = store_.value(item);
    cursor.write(digits, n);
    cursor.fill(' ', old_len - n);
    store_.set_cas(item, cas);
    store_.touch(item);
  } else {
    const uint32_t flags = store_.flags(item);
    const uint32_t expires_at = store_.expires_at(item);
    const ItemStore::Ref fresh = store_.allocate(key.p, key.n, static_cast<uint32_t>(n));
    if (fresh == ItemStore::kNone) {
      reply(Reply::kNoMemory, noreply);
      return;
    }
    ItemStore::Cursor cursor = store_.value(fresh);
    cursor.write(digits, n);
    store_.set_meta(fresh, flags, cas, expires_at);
    const ItemStore::Ref old = store_.find(key.p, key.n, now_);
    if (old != ItemStore::kNone) store_.remove(old);
    store_.link(fresh);
  }
  reply(Reply::kNumber, noreply, value);
}

void Session::reply(Reply r, bool noreply, uint64_t number) {
  switch (r) {
    case Reply::kError:
    case Reply::kBadFormat:
    case Reply::kBadChunk:
    case Reply::kDeleteUsage:
    case Reply::kBadDelta:
    case Reply::kNonNumeric:
      ++c_.errors;
      break;
    case Reply::kTooLarge:
      ++c_.errors;
      ++c_.too_large;
      break;
    case Reply::kNoMemoryStoring:
    case Reply::kNoMemory:
      ++c_.errors;
      ++c_.out_of_memory;
      break;
    default:
      break;
  }
  if (noreply) return;
  if (st_.pending_count == kMaxPending) flush_pending();  // cannot happen (see kMaxPending)
  st_.pending[st_.pending_count++] = Pending{r, number};
}

void Session::flush_pending() {
  for (uint32_t i = 0; i < st_.pending_count; ++i) {
    const Pending& p = st_.pending[i];
    if (p.reply == Reply::kNumber) {
      uint8_t line[22];
      size_t n = format_u64(p.number, line);
      line[n++] = '\r';
      line[n++] = '\n';
      unit_begin(n);
      unit_put(line, n);
    } else {
      const Text& t = kReplyText[static_cast<size_t>(p.reply)];
      unit_begin(t.n);
      unit_put(reinterpret_cast<const uint8_t*>(t.s), t.n);
    }
    unit_end();
  }
  st_.pending_count = 0;
}

void Session::unit_begin(size_t total) {
  st_.unit_seq = 0;
  st_.unit_total = static_cast<uint16_t>((total + kMaxPayload - 1) / kMaxPayload);
  st_.tx_fill = Engine::kFrameHeader;
  if (total == 0) send_datagram();  // a bare frame header, total 0
}

void Session::unit_put(const uint8_t* p, size_t n) {
  while (n > 0 && !st_.tx_failed) {
    const size_t room = Engine::kMaxDatagram - st_.tx_fill;
    const size_t k = n < room ? n : room;
    __builtin_memcpy(st_.tx + st_.tx_fill, p, k);
    st_.tx_fill += static_cast<uint32_t>(k);
    p += k;
    n -= k;
    if (st_.tx_fill == Engine::kMaxDatagram) send_datagram();
  }
}

void Session::unit_put_value(ItemStore::Cursor& cursor, size_t n) {
  while (n > 0 && !st_.tx_failed) {
    const size_t room = Engine::kMaxDatagram - st_.tx_fill;
    const size_t k = cursor.read(st_.tx + st_.tx_fill, n < room ? n : room);
    if (k == 0) break;
    st_.tx_fill += static_cast<uint32_t>(k);
    n -= k;
    if (st_.tx_fill == Engine::kMaxDatagram) send_datagram();
  }
}

void Session::unit_end() {
  if (st_.tx_fill > Engine::kFrameHeader) send_datagram();
}

void Session::send_datagram() {
  if (!st_.tx_failed) {
    store_be16(st_.tx + 0, st_.request_id);
    store_be16(st_.tx + 2, st_.unit_seq);
    store_be16(st_.tx + 4, st_.unit_total);
    store_be16(st_.tx + 6, 0);
    if (out_.send(st_.tx, st_.tx_fill)) {
      ++c_.tx_datagrams;
    } else {
      // The TX ring is full: the rest of this request's reply is dropped.
      st_.tx_failed = true;
      ++c_.tx_failed;
    }
  }
  ++st_.unit_seq;
  st_.tx_fill = Engine::kFrameHeader;
}

}  // namespace

bool Engine::init(void* mem, size_t bytes, const Config& config) {
  st_ = nullptr;
  if (mem == nullptr || bytes < kMinRegionBytes) return false;
  const uintptr_t start = reinterpret_cast<uintptr_t>(mem);
  const uintptr_t base = align_up(start, 64);
  const size_t used = base - start + kStateBytes;
  if (!store_.init(reinterpret_cast<void*>(base + kStateBytes), bytes - used, config.hash_seed)) return false;
  auto* st = reinterpret_cast<EngineState*>(base);
  __builtin_memset(st, 0, sizeof *st);
  st->magic = kMagic;
  st->version = kVersion;
  st->region_bytes = bytes;
  st->max_item_bytes = config.max_item_bytes;
  st->clock = config.clock;
  st->clock_context = config.clock_context;
  st_ = st;
  return true;
}

bool Engine::attach(void* mem, size_t bytes) {
  st_ = nullptr;
  if (mem == nullptr || bytes < kMinRegionBytes) return false;
  const uintptr_t start = reinterpret_cast<uintptr_t>(mem);
  const uintptr_t base = align_up(start, 64);
  auto* st = reinterpret_cast<EngineState*>(base);
  if (st->magic != kMagic || st->version != kVersion || st->region_bytes != bytes) return false;
  if (!store_.attach(reinterpret_cast<void*>(base + kStateBytes), bytes - (base - start + kStateBytes))) return false;
  st_ = st;
  return true;
}

const Counters& Engine::counters() const {
  static const Counters kNone{};
  return st_ != nullptr ? st_->counters : kNone;
}

void Engine::handle(const net::Peer&, const uint8_t* data, size_t len, net::ReplySink& out) {
  if (st_ == nullptr) return;
  Counters& c = st_->counters;
  ++c.datagrams;
  if (data == nullptr || len < kFrameHeader) {
    ++c.dropped_short;
    return;
  }
  // protocol.txt: "requests must be contained in a single UDP datagram". memcached drops the
  // others without a reply (observed), and ignores the sequence number and the reserved field.
  if (load_be16(data + 4) != 1) {
    ++c.dropped_multi;
    return;
  }
  uint32_t now = 0;
  if (st_->clock != nullptr) {
    const int64_t t = st_->clock(st_->clock_context);
    now = t < 1 ? 1 : t > INT64_C(0xffffffff) ? 0xffffffffu : static_cast<uint32_t>(t);
  }
  st_->request_id = load_be16(data);
  st_->tx_failed = false;
  Session session(*st_, store_, out, now);
  session.run(data + kFrameHeader, len - kFrameHeader);
  c.evictions = store_.evictions();
  c.reclaimed = store_.reclaimed();
}

}  // namespace edgeos::apps::memcached
