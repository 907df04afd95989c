#include "agent/output/ledger.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "agent/output/csv.h"

namespace herd::output {

namespace {

using json = Json;

// Rows come from a file people may edit: every read tolerates a missing field or
// one of the wrong type.
std::optional<double> numberOf(const json& row, const char* key) {
  const auto it = row.find(key);
  if (it == row.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::string textOf(const json& row, const char* key) {
  const auto it = row.find(key);
  if (it == row.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_null()) return "";
  return it->dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string paramsText(const json& row) {
  const auto it = row.find("params");
  if (it == row.end() || !it->is_object()) return "";
  std::string out;
  for (const auto& [key, value] : it->items()) {
    if (!out.empty()) out += ' ';
    out += key + "=" +
           (value.is_string() ? value.get<std::string>() : value.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  return out;
}

// Integers without decimals; other numbers with fewer decimals the larger they are
// (sub-millisecond latencies keep three).
std::string shown(std::optional<double> value) {
  if (!value) return "-";
  if (*value == std::floor(*value) && std::fabs(*value) < 1e15) return fmt::format("{:.0f}", *value);
  const double magnitude = std::fabs(*value);
  return fmt::format("{:.{}f}", *value, magnitude >= 100 ? 1 : magnitude >= 1 ? 2 : 3);
}

// "2026-11-23T11:50:58.407Z" -> "2026-11-23 11:50:58"
std::string shortTime(const std::string& rfc3339) {
  std::string out = rfc3339.substr(0, 19);
  if (out.size() > 10 && out[10] == 'T') out[10] = ' ';
  return out;
}

std::string clip(const std::string& text, size_t width) {
  return text.size() <= width ? text : text.substr(0, width - 3) + "...";
}

uint64_t sumOf(const json& items, const char* key) {
  uint64_t total = 0;
  if (!items.is_array()) return 0;
  for (const auto& item : items) {
    const auto it = item.find(key);
    if (it != item.end() && it->is_number_integer() && it->get<int64_t>() > 0) total += it->get<uint64_t>();
  }
  return total;
}

// A plain table: columns sized to their widest cell, numbers right-aligned.
std::string table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows,
                  const std::vector<bool>& left) {
  std::vector<size_t> width(headers.size());
  for (size_t c = 0; c < headers.size(); ++c) width[c] = headers[c].size();
  for (const auto& r : rows) {
    for (size_t c = 0; c < r.size() && c < width.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) {
      if (c) out += "  ";
      out += left[c] ? fmt::format("{:<{}}", cells[c], width[c]) : fmt::format("{:>{}}", cells[c], width[c]);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(headers);
  for (const auto& r : rows) out += line(r);
  return out;
}

struct Field {
  const char* key;
  const char* label;
};

// What a run was asked to do: compared as values.
constexpr Field kParameters[] = {
    {"scenario", "scenario"},    {"scenarioSha256", "scenario content (sha256)"},
    {"target", "target"},        {"users", "users"},
    {"spawnRate", "spawn rate"}, {"plannedDurationSeconds", "planned duration (s)"},
    {"agents", "agents"},
};

// What it measured: compared as numbers.
constexpr Field kMetrics[] = {
    {"durationSeconds", "duration (s)"},
    {"requests", "requests"},
    {"rps", "requests/s"},
    {"p50", "p50 (ms)"},
    {"p95", "p95 (ms)"},
    {"p99", "p99 (ms)"},
    {"failurePercent", "failures (%)"},
    {"peakUsers", "peak users"},
    {"lost", "lost messages"},
    {"duplicates", "duplicate messages"},
};

std::string change(std::optional<double> a, std::optional<double> b) {
  if (!a || !b) return "";
  const double delta = *b - *a;
  if (delta == 0) return "0";
  std::string out = (delta > 0 ? "+" : "") + shown(delta);
  if (*a != 0) out += fmt::format(" ({:+.1f}%)", 100.0 * delta / *a);
  return out;
}

std::string runLabel(const json& row, size_t number) {
  return fmt::format("#{} {} ({})", number, textOf(row, "runId"), shortTime(textOf(row, "time")));
}

// The run parameters and -p params that differ (a table) and those that do not (a list).
std::string parametersSection(const json& a, const json& b) {
  std::vector<std::vector<std::string>> changed;
  std::vector<std::string> same;
  for (const auto& p : kParameters) {
    const auto x = textOf(a, p.key), y = textOf(b, p.key);
    if (x != y) changed.push_back({std::string("  ") + p.label, x, y});
    else
      same.push_back(fmt::format("{} {}", p.label, std::string_view(p.key) == "scenarioSha256" ? x.substr(0, 12) : x));
  }
  auto params = [](const json& row) {
    const auto it = row.find("params");
    return it != row.end() && it->is_object() ? *it : json::object();
  };
  const auto params_a = params(a), params_b = params(b);
  std::set<std::string> keys;
  for (const auto* p : {&params_a, &params_b}) {
    for (const auto& [key, value] : p->items()) keys.insert(key);
  }
  for (const auto& key : keys) {
    const auto x = params_a.contains(key) ? textOf(params_a, key.c_str()) : std::string("(unset)");
    const auto y = params_b.contains(key) ? textOf(params_b, key.c_str()) : std::string("(unset)");
    if (x != y) changed.push_back({"  -p " + key, x, y});
    else same.push_back(fmt::format("-p {}={}", key, x));
  }
  std::string out = changed.empty()
                        ? std::string("Parameters: none changed\n")
                        : "Parameters that changed\n" + table({"  parameter", "A", "B"}, changed, {true, true, true});
  if (!same.empty()) {
    std::string list;
    for (const auto& s : same) list += (list.empty() ? "" : ", ") + s;
    out += "Unchanged: " + list + "\n";
  }
  return out;
}

// Each metric for A and B, with B - A and the relative change.
std::string resultsSection(const json& a, const json& b) {
  std::vector<std::vector<std::string>> metrics;
  for (const auto& m : kMetrics) {
    const auto x = numberOf(a, m.key), y = numberOf(b, m.key);
    metrics.push_back({std::string("  ") + m.label, shown(x), shown(y), change(x, y)});
  }
  metrics.push_back({"  verdict", textOf(a, "verdict"), textOf(b, "verdict"),
                     textOf(a, "verdict") == textOf(b, "verdict") ? "" : "changed"});
  return "Results\n" + table({"  metric", "A", "B", "B - A"}, metrics, {true, false, false, true});
}

// What the ledger keeps of each threshold: enough to be a later run's baseline
// and to show its own comparison in `herd compare`.
json ledgerThresholds(const json& summary) {
  json out = json::array();
  if (!summary.contains("thresholds") || !summary["thresholds"].is_array()) return out;
  for (const auto& t : summary["thresholds"]) {
    json kept = json::object();
    for (const auto* key : {"expression", "passed", "value", "shown", "abortedRun", "bound", "shownBound", "baseline",
                            "shownBaseline", "baselineRunId", "skipped", "message"})
      if (t.contains(key)) kept[key] = t[key];
    out.push_back(std::move(kept));
  }
  return out;
}

// Each run's thresholds that were relative to a baseline, as they were judged.
std::string baselineSection(const json& row, const char* label) {
  const auto it = row.find("thresholds");
  if (it == row.end() || !it->is_array()) return "";
  std::vector<std::vector<std::string>> cells;
  for (const auto& t : *it) {
    if (!t.is_object() || !(t.contains("baseline") || t.value("skipped", false))) continue;
    const bool skipped = t.value("skipped", false);
    cells.push_back({"  " + clip(textOf(t, "expression"), 60), skipped ? "-" : textOf(t, "baselineRunId"),
                     skipped ? "-" : textOf(t, "shownBaseline"), textOf(t, "shown"),
                     skipped ? "-" : textOf(t, "shownBound"),
                     skipped                    ? "skipped: " + textOf(t, "message")
                     : t.value("passed", false) ? "pass"
                                                : "FAIL"});
  }
  if (cells.empty()) return "";
  return fmt::format("\nThresholds of {} against a baseline\n", label) +
         table({"  threshold", "baseline run", "baseline", "measured", "bound", "result"}, cells,
               {true, true, false, false, false, true});
}

}  // namespace

json ledgerRow(const json& summary, const scenario::Plan& plan, std::string_view scenario_sha256,
               std::string_view note) {
  json params = json::object();
  for (const auto& [key, value] : plan.params) params[key] = value;
  const auto& totals = summary.at("totals");
  const auto requests = totals.at("requests").get<uint64_t>();
  const auto failures = totals.at("failures").get<uint64_t>();
  const auto& delivery = summary.contains("delivery") ? summary.at("delivery") : json::array();
  return json{
      {"ledgerVersion", kLedgerVersion},
      {"time", summary.at("startTime")},
      {"runId", summary.at("runId")},
      {"scenario", plan.name},
      {"scenarioFile", plan.source_file},
      {"scenarioSha256", std::string(scenario_sha256)},
      {"params", params},
      {"target", plan.origins.empty() ? std::string() : plan.origins[0].toString()},
      {"users", plan.load.users},
      {"spawnRate", plan.load.spawn_rate},
      {"plannedDurationSeconds", std::chrono::duration<double>(plan.load.duration).count()},
      {"agents", summary.at("agents")},
      {"durationSeconds", summary.at("durationSeconds")},
      {"requests", requests},
      {"failures", failures},
      {"rps", totals.at("rps")},
      {"p50", totals.at("latency").at("p50")},
      {"p95", totals.at("latency").at("p95")},
      {"p99", totals.at("latency").at("p99")},
      {"failurePercent", requests ? 100.0 * static_cast<double>(failures) / static_cast<double>(requests) : 0.0},
      {"peakUsers", summary.at("users").at("peak")},
      {"lost", sumOf(delivery, "lost")},
      {"duplicates", sumOf(delivery, "duplicates")},
      {"verdict", summary.at("verdict")},
      {"thresholds", ledgerThresholds(summary)},
      {"note", std::string(note)}};
}

json ledgerBaseline(const json& row) {
  json latency = json::object();
  for (const auto* key : {"p50", "p95", "p99"})
    if (auto value = numberOf(row, key)) latency[key] = *value;
  json totals{{"latency", std::move(latency)}};
  for (const auto* key : {"requests", "failures", "rps"})
    if (auto value = numberOf(row, key)) totals[key] = *value;
  const auto it = row.find("thresholds");
  return json{{"runId", textOf(row, "runId")},
              {"totals", std::move(totals)},
              {"thresholds", it != row.end() && it->is_array() ? *it : json::array()}};
}

std::string ledgerLine(const json& row) { return row.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"; }

Result<std::vector<json>> parseLedger(std::string_view text, const std::string& source) {
  std::vector<json> rows;
  size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto end = text.find('\n');
    const auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto row = json::parse(line, nullptr, /*allow_exceptions=*/false);
    const auto where = fmt::format("{}:{}", source, line_number);
    if (row.is_discarded()) return Error{"not a JSON object (each line of the ledger is one run)", where};
    if (!row.is_object()) return Error{"not a JSON object (each line of the ledger is one run)", where};
    if (!row.contains("runId") || !row["runId"].is_string()) return Error{"the run has no \"runId\"", where};
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string formatLedger(const std::vector<json>& rows) {
  if (rows.empty()) return "no runs in the ledger yet\n";
  std::vector<std::vector<std::string>> cells;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    cells.push_back({std::to_string(i + 1), shortTime(textOf(r, "time")), textOf(r, "runId"),
                     textOf(r, "scenarioSha256").substr(0, 8), clip(paramsText(r), 40), shown(numberOf(r, "users")),
                     shown(numberOf(r, "spawnRate")), shown(numberOf(r, "agents")),
                     shown(numberOf(r, "durationSeconds")), shown(numberOf(r, "rps")), shown(numberOf(r, "p95")),
                     shown(numberOf(r, "failurePercent")), shown(numberOf(r, "lost")), shown(numberOf(r, "duplicates")),
                     textOf(r, "verdict"), clip(textOf(r, "note"), 40)});
  }
  return table(
      {"#", "time", "run", "sha256", "params", "users", "spawn/s", "agents", "dur s", "rps", "p95 ms", "fail %", "lost",
       "dup", "verdict", "note"},
      cells,
      {false, true, true, true, true, false, false, false, false, false, false, false, false, false, true, true});
}

std::string ledgerCsv(const std::vector<json>& rows) {
  std::string out =
      "number,time,runId,scenario,scenarioFile,scenarioSha256,params,target,users,spawnRate,"
      "plannedDurationSeconds,agents,durationSeconds,requests,failures,rps,p50,p95,p99,failurePercent,peakUsers,"
      "lost,duplicates,verdict,note\r\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    std::string line = std::to_string(i + 1);
    for (const auto* key : {"time", "runId", "scenario", "scenarioFile", "scenarioSha256"})
      line += "," + csvField(textOf(r, key));
    line += "," + csvField(paramsText(r)) + "," + csvField(textOf(r, "target"));
    for (const auto* key :
         {"users", "spawnRate", "plannedDurationSeconds", "agents", "durationSeconds", "requests", "failures", "rps",
          "p50", "p95", "p99", "failurePercent", "peakUsers", "lost", "duplicates"}) {
      line += "," + csvField(textOf(r, key));
    }
    line += "," + csvField(textOf(r, "verdict")) + "," + csvField(textOf(r, "note"));
    out += line + "\r\n";
  }
  return out;
}

Result<size_t> findRun(const std::vector<json>& rows, std::string_view reference) {
  int64_t number = 0;
  const auto* end = reference.data() + reference.size();
  if (auto [ptr, ec] = std::from_chars(reference.data(), end, number); ec == std::errc() && ptr == end) {
    const auto count = static_cast<int64_t>(rows.size());
    const int64_t index = number > 0 ? number - 1 : count + number;
    if (number == 0 || index < 0 || index >= count) {
      return Error{fmt::format("no run number {} (the ledger has {} run(s); -1 is the last)", number, count),
                   std::string(reference)};
    }
    return static_cast<size_t>(index);
  }
  for (size_t i = rows.size(); i-- > 0;) {
    if (textOf(rows[i], "runId") == reference) return i;
  }
  return Error{"no run with this number or run id in the ledger (see `herd ledger`)", std::string(reference)};
}

std::string formatComparison(const json& a, const json& b, size_t a_number, size_t b_number) {
  std::string out = fmt::format("A: {}\nB: {}\n\n", runLabel(a, a_number), runLabel(b, b_number));
  out += parametersSection(a, b) + "\n" + resultsSection(a, b) + baselineSection(a, "A") + baselineSection(b, "B");
  const auto note_a = textOf(a, "note"), note_b = textOf(b, "note");
  if (!note_a.empty() || !note_b.empty()) out += fmt::format("\nNotes\n  A: {}\n  B: {}\n", note_a, note_b);
  return out;
}

}  // namespace herd::output
