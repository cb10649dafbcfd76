#include "console.hpp"

#include "../platform/pc/serial.hpp"

namespace edgeos::kernel {

namespace {

// Output kept while a run is on (see console_defer): a ring of characters not yet sent.
constexpr size_t kKeep = 64 * 1024;
char kept[kKeep];
size_t kept_head = 0, kept_count = 0;
uint64_t kept_dropped = 0;
bool deferring = false;

void emit(const char* s, size_t n) {
  if (!deferring) {
    pc::serial_write(s, n);
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    if (kept_count == kKeep) {
      ++kept_dropped;
      continue;
    }
    kept[(kept_head + kept_count++) % kKeep] = s[i];
  }
}

// Where formatted characters go: a buffer, flushed to the serial port or kept (ksnprintf).
struct Out {
  char* buf;
  size_t cap;
  size_t len = 0;
  bool to_serial;
  void put(char c) {
    if (len + 1 < cap) {
      buf[len++] = c;
    } else if (to_serial) {
      emit(buf, len);
      len = 0;
      buf[len++] = c;
    }
  }
  void flush() {
    if (to_serial && len > 0) emit(buf, len);
    if (!to_serial && cap > 0) buf[len < cap ? len : cap - 1] = '\0';
  }
};

void format(Out& out, const char* fmt, va_list args) {
  for (const char* p = fmt; *p != '\0'; ++p) {
    if (*p != '%') {
      out.put(*p);
      continue;
    }
    ++p;
    bool left = false, zero = false;
    for (;; ++p) {
      if (*p == '-') {
        left = true;
      } else if (*p == '0') {
        zero = true;
      } else {
        break;
      }
    }
    int width = 0;
    while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
    int longs = 0;
    while (*p == 'l') {
      ++longs;
      ++p;
    }
    char digits[24];
    int n = 0;
    const char* text = digits;
    bool negative = false;
    auto number = [&](uint64_t v, unsigned base) {
      do {
        const unsigned d = static_cast<unsigned>(v % base);
        digits[n++] = static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
      } while (v != 0);
    };
    switch (*p) {
      case 'd': {
        const int64_t v = longs > 0 ? va_arg(args, long long) : va_arg(args, int);
        negative = v < 0;
        number(negative ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v), 10);
        break;
      }
      case 'u':
        number(longs > 0 ? va_arg(args, unsigned long long) : va_arg(args, unsigned), 10);
        break;
      case 'x':
        number(longs > 0 ? va_arg(args, unsigned long long) : va_arg(args, unsigned), 16);
        break;
      case 'p':
        number(reinterpret_cast<uint64_t>(va_arg(args, void*)), 16);
        zero = true;
        width = 16;
        break;
      case 'c':
        digits[0] = static_cast<char>(va_arg(args, int));
        n = 1;
        break;
      case 's': {
        text = va_arg(args, const char*);
        if (text == nullptr) text = "(null)";
        while (text[n] != '\0') ++n;
        break;
      }
      case '%':
        out.put('%');
        continue;
      default:
        out.put('%');
        if (*p == '\0') return;
        out.put(*p);
        continue;
    }
    const bool reversed = text == digits && *p != 'c';
    const int len = n + (negative ? 1 : 0);
    if (!left && !zero) {
      for (int i = len; i < width; ++i) out.put(' ');
    }
    if (negative) out.put('-');
    if (!left && zero) {
      for (int i = len; i < width; ++i) out.put('0');
    }
    for (int i = 0; i < n; ++i) out.put(reversed ? digits[n - 1 - i] : text[i]);
    if (left) {
      for (int i = len; i < width; ++i) out.put(' ');
    }
  }
}

}  // namespace

void console_defer() { deferring = true; }

void console_drain(size_t max_chars) {
  while (kept_count > 0 && max_chars > 0) {
    // Up to the end of the ring, or the allowance, in one write.
    size_t n = kKeep - kept_head;
    if (n > kept_count) n = kept_count;
    if (n > max_chars) n = max_chars;
    pc::serial_write(kept + kept_head, n);
    kept_head = (kept_head + n) % kKeep;
    kept_count -= n;
    max_chars -= n;
  }
}

void console_flush() {
  console_drain(kKeep);
  deferring = false;
  if (kept_dropped > 0) {
    kprintf("[console: %lu characters were lost: more than %lu KiB kept during the run]\n", kept_dropped,
            static_cast<unsigned long>(kKeep / 1024));
    kept_dropped = 0;
  }
}

void kvprintf(const char* fmt, va_list args) {
  char buf[256];
  Out out{buf, sizeof buf, 0, true};
  format(out, fmt, args);
  out.flush();
}

void kprintf(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  kvprintf(fmt, args);
  va_end(args);
}

size_t ksnprintf(char* buf, size_t cap, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  Out out{buf, cap, 0, false};
  format(out, fmt, args);
  out.flush();
  va_end(args);
  return out.len;
}

}  // namespace edgeos::kernel
