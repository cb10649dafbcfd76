#include "edgeos/workloads/task_set_io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "edgeos/hosted/atomic_file.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"

namespace edgeos {

namespace {

std::string trim(std::string_view s) {
  const size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string_view::npos) return {};
  const size_t b = s.find_last_not_of(" \t\r");
  return std::string(s.substr(a, b - a + 1));
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == ',') {
      out.push_back(trim(std::string_view(line).substr(start, i - start)));
      start = i + 1;
    }
  }
  return out;
}

constexpr const char* kColumns[] = {"name",     "tenant", "cpu",      "kind", "wcet",      "bcet",
                                    "period",   "deadline", "phase",  "priority", "max_extra", "hard"};

}  // namespace

TaskSet read_task_set_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open", path));
  TaskSet set;
  set.name = std::filesystem::path(path).stem().string();
  std::map<std::string, size_t> column;
  std::string line;
  size_t line_no = 0;
  uint32_t max_cpu = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    const std::vector<std::string> fields = split(t);
    if (column.empty()) {
      for (size_t i = 0; i < fields.size(); ++i) {
        const std::string& c = fields[i];
        if (std::find(std::begin(kColumns), std::end(kColumns), c) == std::end(kColumns)) {
          throw InputError(fmt::format("{}:{}: unknown column '{}' (columns: name, tenant, cpu, kind, wcet, bcet, "
                                       "period, deadline, phase, priority, max_extra, hard)",
                                       path, line_no, c));
        }
        if (!column.emplace(c, i).second) throw InputError(fmt::format("{}:{}: column '{}' twice", path, line_no, c));
      }
      for (const char* required : {"name", "wcet", "period"}) {
        if (!column.count(required)) throw InputError(fmt::format("{}:{}: missing column '{}'", path, line_no, required));
      }
      continue;
    }
    if (fields.size() != column.size()) {
      throw InputError(fmt::format("{}:{}: expected {} fields, got {}", path, line_no, column.size(), fields.size()));
    }
    auto get = [&](const char* c) -> const std::string* {
      const auto it = column.find(c);
      return it == column.end() ? nullptr : &fields[it->second];
    };
    auto where = [&](const char* c) { return fmt::format("{}:{}: column '{}'", path, line_no, c); };
    TaskSpec s;
    s.name = *get("name");
    if (s.name.empty()) throw InputError(where("name") + ": empty");
    s.tenant = get("tenant") != nullptr && !get("tenant")->empty() ? *get("tenant") : s.name;
    if (const std::string* v = get("cpu")) s.cpu = static_cast<uint32_t>(std::min<uint64_t>(parse_uint(*v, where("cpu")), 4096));
    if (const std::string* v = get("kind")) {
      if (*v == "periodic") {
        s.kind = TaskKind::kPeriodic;
      } else if (*v == "sporadic") {
        s.kind = TaskKind::kSporadic;
      } else {
        throw InputError(where("kind") + ": expected periodic or sporadic, got '" + *v + "'");
      }
    }
    s.wcet = parse_duration(*get("wcet"), where("wcet"));
    s.period = parse_duration(*get("period"), where("period"));
    if (const std::string* v = get("bcet"); v != nullptr && !v->empty()) s.bcet = parse_duration(*v, where("bcet"));
    if (const std::string* v = get("deadline"); v != nullptr && !v->empty()) s.deadline = parse_duration(*v, where("deadline"));
    if (const std::string* v = get("phase"); v != nullptr && !v->empty()) s.phase = parse_duration(*v, where("phase"));
    if (const std::string* v = get("max_extra"); v != nullptr && !v->empty()) s.max_extra = parse_duration(*v, where("max_extra"));
    if (const std::string* v = get("priority"); v != nullptr && !v->empty()) {
      const uint64_t prio = parse_uint(*v, where("priority"));
      if (prio > 255) throw InputError(where("priority") + ": must be 0..255, got " + *v);
      s.priority = static_cast<uint8_t>(prio);
    }
    if (const std::string* v = get("hard"); v != nullptr && !v->empty()) {
      if (*v != "true" && *v != "false") throw InputError(where("hard") + ": expected true or false");
      s.hard = *v == "true";
    }
    max_cpu = std::max(max_cpu, s.cpu);
    set.tasks.push_back(s);
  }
  if (column.empty()) throw InputError(fmt::format("{}: no header line", path));
  set.num_cpus = max_cpu + 1;
  try {
    validate(set, 1u << 20);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", path, e.what()));
  }
  return set;
}

std::string task_set_csv(const TaskSet& set) {
  std::string out = fmt::format("# task set \"{}\", {} CPU(s)\nname,tenant,cpu,kind,wcet,bcet,period,deadline,phase,priority,max_extra,hard\n",
                                set.name, set.num_cpus);
  for (const TaskSpec& s : set.tasks) {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}\n", s.name, s.tenant, s.cpu,
                       s.kind == TaskKind::kPeriodic ? "periodic" : "sporadic", format_duration(s.wcet),
                       s.bcet == Duration::zero() ? format_duration(s.wcet) : format_duration(s.bcet),
                       format_duration(s.period), format_duration(s.effective_deadline()), format_duration(s.phase),
                       s.priority, format_duration(s.max_extra), s.hard ? "true" : "false");
  }
  return out;
}

void write_task_set_csv(const std::string& path, const TaskSet& set) { write_file_atomically(path, task_set_csv(set)); }

}  // namespace edgeos
