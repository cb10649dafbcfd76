// Perfetto's native trace format, written by hand from its documented protobuf schema
// (perfetto/protos/perfetto/trace: trace.proto, trace_packet.proto, track_event/track_event.proto,
// track_event/track_descriptor.proto). Only the fields used here:
//
//   Trace           { repeated TracePacket packet = 1; }
//   TracePacket     { uint64 timestamp = 8; uint32 trusted_packet_sequence_id = 10;
//                     TrackEvent track_event = 11; uint32 sequence_flags = 13;
//                     TrackDescriptor track_descriptor = 60; }
//   TrackEvent      { Type type = 9 (SLICE_BEGIN 1, SLICE_END 2, INSTANT 3); uint64 track_uuid = 11;
//                     string name = 23; }
//   TrackDescriptor { uint64 uuid = 1; string name = 2; uint64 parent_uuid = 5;
//                     ChildTracksOrdering child_ordering = 11 (EXPLICIT 3); int32 sibling_order_rank = 12; }
//
// What Perfetto's trace processor needs of such a trace (trace_packet.proto's and
// track_descriptor.proto's comments, and its guide to converting data to Perfetto): every track
// event on a packet sequence (trusted_packet_sequence_id, not 0) with a timestamp; the sequence's
// first packet with SEQ_INCREMENTAL_STATE_CLEARED; each track described once, with a uuid and a
// name distinct from its siblings' (siblings of one name are merged); a SLICE_END closing the
// slice open on its track. Events are written in time order, so the trace processor's sort (by
// timestamp, ties in file order) keeps each CPU's end-then-begin at one instant as written.
// tests/cli/cli_test.py (PerfettoProto) checks all of it with its own decoder.
//
// Protobuf's wire format: each field a varint key (field number << 3 | wire type) then a varint
// (type 0) or a varint length and that many bytes (type 2: strings and messages).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "edgeos/hosted/atomic_file.hpp"
#include "edgeos/hosted/trace_io.hpp"

namespace edgeos {

namespace {

constexpr uint32_t kVarint = 0, kBytes = 2;
constexpr int kSliceBegin = 1, kSliceEnd = 2, kInstant = 3;
constexpr uint64_t kRunTrack = 1;
constexpr uint32_t kSequence = 1;
constexpr uint64_t kExplicitOrder = 3;  // TrackDescriptor.ChildTracksOrdering.EXPLICIT

void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void key(std::string& out, uint32_t field, uint32_t wire) { varint(out, uint64_t{field} << 3 | wire); }
void field_varint(std::string& out, uint32_t field, uint64_t v) {
  key(out, field, kVarint);
  varint(out, v);
}
void field_bytes(std::string& out, uint32_t field, std::string_view bytes) {
  key(out, field, kBytes);
  varint(out, bytes.size());
  out.append(bytes);
}

uint64_t cpu_track(uint32_t cpu) { return 2 + uint64_t{cpu}; }

// The same encoding into a buffer sized beforehand (the event path: no allocation per packet).
size_t varint_size(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}
char* put_varint(char* p, uint64_t v) {
  for (; v >= 0x80; v >>= 7) *p++ = static_cast<char>((v & 0x7f) | 0x80);
  *p++ = static_cast<char>(v);
  return p;
}
char* put_key(char* p, uint32_t field, uint32_t wire) { return put_varint(p, uint64_t{field} << 3 | wire); }
size_t key_size(uint32_t field) { return varint_size(uint64_t{field} << 3); }

}  // namespace

PerfettoProtoWriter::PerfettoProtoWriter(std::string path, TraceNames names, uint32_t num_cpus)
    : PerfettoOutput(std::move(path)), names_(std::move(names)), num_cpus_(num_cpus) {
  // The CPUs in their order (and the FWP life cycle's track after them), as the JSON's
  // thread_sort_index: the run's track orders its children by rank, CPU c ranked c.
  track(kRunTrack, names_.run.empty() ? "edgeos" : names_.run, 0);
  for (uint32_t c = 0; c < num_cpus; ++c) track(cpu_track(c), names_.cpu(c), kRunTrack);
}

PerfettoProtoWriter::~PerfettoProtoWriter() = default;

void PerfettoProtoWriter::packet(const std::string& body) {
  // The sequence's first packet says its incremental state starts cleared (the trace processor
  // wants that before it takes track events from a sequence).
  std::string full;
  full.reserve(body.size() + 8);
  field_varint(full, 10, kSequence);
  if (first_) field_varint(full, 13, 1);
  first_ = false;
  full += body;
  field_bytes(out_, 1, full);
}

void PerfettoProtoWriter::track(uint64_t uuid, std::string_view name, uint64_t parent) {
  inner_.clear();
  field_varint(inner_, 1, uuid);
  field_bytes(inner_, 2, name);
  if (parent != 0) {
    field_varint(inner_, 5, parent);
    field_varint(inner_, 12, uuid - cpu_track(0));  // sibling_order_rank: CPU c is c, the FWP track num_cpus
  } else {
    field_varint(inner_, 11, kExplicitOrder);  // child_ordering
  }
  body_.clear();
  field_bytes(body_, 60, inner_);
  packet(body_);
}

void PerfettoProtoWriter::event(int64_t ts, uint64_t track_uuid, int type, const Name& name) {
  // The bytes packet() would write for field_varint(8, ts) + field_bytes(11, TrackEvent{type,
  // track_uuid, name}), encoded in one pass: sizes first, then the fields in the same order, the
  // name from its pieces (no string built for it).
  char digits[24];
  const size_t ndigits = name.job ? static_cast<size_t>(std::to_chars(digits, digits + sizeof digits, name.n).ptr - digits) : 0;
  const size_t name_size = name.head.size() + (name.head.empty() ? 0 : 1) + name.tail.size() + ndigits;
  const uint64_t t = static_cast<uint64_t>(ts < 0 ? 0 : ts);
  size_t inner = key_size(9) + varint_size(static_cast<uint64_t>(type)) + key_size(11) + varint_size(track_uuid);
  if (name_size != 0) inner += key_size(23) + varint_size(name_size) + name_size;
  const size_t body = key_size(10) + varint_size(kSequence) + (first_ ? key_size(13) + 1 : 0) + key_size(8) +
                      varint_size(t) + key_size(11) + varint_size(inner) + inner;
  const size_t size = key_size(1) + varint_size(body) + body;
  auto encode = [&](char* p) {
    p = put_varint(put_key(p, 1, kBytes), body);
    p = put_varint(put_key(p, 10, kVarint), kSequence);
    if (first_) p = put_varint(put_key(p, 13, kVarint), 1);
    p = put_varint(put_key(p, 8, kVarint), t);
    p = put_varint(put_key(p, 11, kBytes), inner);
    p = put_varint(put_key(p, 9, kVarint), static_cast<uint64_t>(type));
    p = put_varint(put_key(p, 11, kVarint), track_uuid);
    if (name_size == 0) return;
    p = put_varint(put_key(p, 23, kBytes), name_size);
    auto put = [&p](const char* s, size_t n) {
      std::memcpy(p, s, n);
      p += n;
    };
    put(name.head.data(), name.head.size());
    if (!name.head.empty()) *p++ = ' ';
    put(name.tail.data(), name.tail.size());
    put(digits, ndigits);
  };
  char packet[256];
  if (size <= sizeof packet) {
    encode(packet);
    out_.append(packet, size);
  } else {
    const size_t at = out_.size();
    out_.resize(at + size);
    encode(out_.data() + at);
  }
  first_ = false;
}

// "fwp/thread #", kept per thread for the FWP it last ran in (a thread in a call runs in the
// callee's FWP): the job's name is this and its number.
std::string_view PerfettoProtoWriter::job_prefix(uint32_t fwp, uint32_t thread) {
  if (thread >= prefixes_.size()) prefixes_.resize(thread + 1u, {kNoIndex, {}});
  auto& [cached_fwp, prefix] = prefixes_[thread];
  if (cached_fwp != fwp || prefix.empty()) {
    cached_fwp = fwp;
    prefix = names_.fwp(fwp) + "/" + names_.thread(thread) + " #";
  }
  return prefix;
}

void PerfettoProtoWriter::write(const TraceRecord& r) {
  // "what fwp/thread #job", or "what fwp" for a record without a thread.
  auto label = [&](std::string_view what) -> Name {
    if (r.thread != kNoIndex) return Name{what, job_prefix(r.fwp, r.thread), true, r.job};
    fwp_name_ = names_.fwp(r.fwp);
    return Name{what, fwp_name_, false, 0};
  };
  if (r.cpu == kNoCpu) {
    const uint64_t global = cpu_track(num_cpus_);
    if (!global_named_) {
      global_named_ = true;
      track(global, "FWP life cycle", kRunTrack);
    }
    event(r.time_ns, global, kInstant, label(trace_event_name(r.event)));
    flush_if_large();
    return;
  }
  const uint64_t t = cpu_track(r.cpu);
  switch (slice_effect(r.event)) {
    case SliceEffect::kOpens:
      if (r.cpu >= open_.size()) open_.resize(r.cpu + 1u, kNoSlice);
      if (open_[r.cpu] != kNoSlice) event(r.time_ns, t, kSliceEnd, {});  // never nested: one job at a time
      open_[r.cpu] = r.thread;
      event(r.time_ns, t, kSliceBegin, Name{{}, job_prefix(r.fwp, r.thread), true, r.job});
      break;
    case SliceEffect::kCloses:
      if (r.cpu < open_.size() && open_[r.cpu] == int64_t{r.thread}) {
        event(r.time_ns, t, kSliceEnd, {});
        open_[r.cpu] = kNoSlice;
      }
      break;
    case SliceEffect::kNone:
      break;
  }
  if (const char* name = instant_name(r.event)) event(r.time_ns, t, kInstant, label(name));
  flush_if_large();
}

void PerfettoProtoWriter::finish(Instant end) {
  for (uint32_t cpu = 0; cpu < open_.size(); ++cpu) {
    if (open_[cpu] != kNoSlice) event(end.ns(), cpu_track(cpu), kSliceEnd, {});
  }
  open_.clear();
}

const char* perfetto_file_name(std::string_view format) {
  return format == "proto" ? "trace.perfetto-trace" : "trace.perfetto.json";
}

std::unique_ptr<PerfettoOutput> make_perfetto_output(std::string_view format, std::string path, TraceNames names,
                                                     uint32_t num_cpus) {
  if (format == "proto") return std::make_unique<PerfettoProtoWriter>(std::move(path), std::move(names), num_cpus);
  return std::make_unique<PerfettoWriter>(std::move(path), std::move(names), num_cpus);
}

void write_perfetto(std::string_view format, const std::string& path, const std::vector<TraceRecord>& records,
                    const TraceNames& names, Instant end) {
  uint32_t num_cpus = 0;
  for (const TraceRecord& r : records) {
    if (r.cpu != kNoCpu) num_cpus = std::max<uint32_t>(num_cpus, r.cpu + 1u);
  }
  const std::unique_ptr<PerfettoOutput> w = make_perfetto_output(format, path, names, num_cpus);
  for (const TraceRecord& r : records) w->write(r);
  w->commit(end);
}

}  // namespace edgeos
