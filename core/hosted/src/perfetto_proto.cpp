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

void PerfettoProtoWriter::event(int64_t ts, uint64_t track_uuid, int type, std::string_view name) {
  inner_.clear();
  field_varint(inner_, 9, static_cast<uint64_t>(type));
  field_varint(inner_, 11, track_uuid);
  if (!name.empty()) field_bytes(inner_, 23, name);
  body_.clear();
  field_varint(body_, 8, static_cast<uint64_t>(ts < 0 ? 0 : ts));
  field_bytes(body_, 11, inner_);
  packet(body_);
}

std::string PerfettoProtoWriter::job_name(uint32_t fwp, uint32_t thread, uint64_t job) const {
  return fmt::format("{}/{} #{}", names_.fwp(fwp), names_.thread(thread), job);
}

void PerfettoProtoWriter::write(const TraceRecord& r) {
  auto label = [&](std::string_view what) {
    return r.thread == kNoIndex ? fmt::format("{} {}", what, names_.fwp(r.fwp))
                                : fmt::format("{} {}", what, job_name(r.fwp, r.thread, r.job));
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
  switch (r.event) {
    case TraceEvent::kStart:
    case TraceEvent::kResume:
      if (open_.count(r.cpu) != 0) event(r.time_ns, t, kSliceEnd, {});  // never nested: one job at a time
      open_[r.cpu] = r.thread;
      event(r.time_ns, t, kSliceBegin, job_name(r.fwp, r.thread, r.job));
      break;
    case TraceEvent::kPreempt:
    case TraceEvent::kComplete:
    case TraceEvent::kBlock:
    case TraceEvent::kThreadExit:
    case TraceEvent::kBudgetExhausted: {
      auto it = open_.find(r.cpu);
      if (it != open_.end() && it->second == r.thread) {
        event(r.time_ns, t, kSliceEnd, {});
        open_.erase(it);
      }
      if (r.event == TraceEvent::kBudgetExhausted) event(r.time_ns, t, kInstant, label("budget exhausted"));
      break;
    }
    case TraceEvent::kRelease:
      event(r.time_ns, t, kInstant, label("release"));
      break;
    case TraceEvent::kDeadlineMiss:
      event(r.time_ns, t, kInstant, label("DEADLINE MISS"));
      break;
    default:
      event(r.time_ns, t, kInstant, label(trace_event_name(r.event)));
      break;
  }
  flush_if_large();
}

void PerfettoProtoWriter::finish(Instant end) {
  for (const auto& [cpu, thread] : open_) event(end.ns(), cpu_track(cpu), kSliceEnd, {});
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
