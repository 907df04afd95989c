#include "agent/cli/outputs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/cli/cli11.h"
#include "agent/output/csv.h"
#include "agent/output/html_report.h"
#include "agent/output/ledger.h"
#include "common/core/crypto.h"

namespace herd::cli {

namespace {

// One write(2) with O_APPEND, so runs finishing at the same time in the same
// directory add whole lines, never interleaved halves.
Status appendLine(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Error{std::strerror(errno), path};
  const auto written = ::write(fd, line.data(), line.size());
  const int saved = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(line.size()))
    return Error{written < 0 ? std::strerror(saved) : "short write", path};
  return Ok{};
}

}  // namespace

std::string scenarioSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream text;
  text << in.rdbuf();
  return sha256Hex(text.str());
}

Status writeRunOutputs(const Options& options, const scenario::Plan& plan, const report::RunAggregate& aggregate,
                       const report::RunInfo& info, const std::string& scenario_sha256) {
  const auto summary_json = report::buildSummary(plan, aggregate, info);
  // Names in a scenario may hold invalid UTF-8; they are replaced, never thrown on.
  const auto summary = summary_json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  if (!options.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.out_dir, ec);
    if (ec) return Error{ec.message(), options.out_dir};
    if (auto s = report::writeFile(options.out_dir + "/summary.json", summary); !s) return s;
    const auto prefix = options.out_dir + "/" + kCsvPrefixInOut;
    if (auto s = output::writeCsvFiles(prefix, plan, aggregate, info); !s) return s;
    const auto html = output::buildHtmlReport(plan, aggregate, info, options.note);
    if (auto s = report::writeFile(options.out_dir + "/report.html", html); !s) return s;
  }
  if (!options.summary_json.empty()) {
    if (auto s = report::writeFile(options.summary_json, summary); !s) return s;
  }
  if (!options.csv_prefix.empty()) {
    if (auto s = output::writeCsvFiles(options.csv_prefix, plan, aggregate, info); !s) return s;
  }
  if (!options.no_ledger) {
    const auto row = output::ledgerRow(summary_json, plan, scenario_sha256, options.note);
    if (auto s = appendLine(options.ledger, output::ledgerLine(row)); !s) return s;
  }
  return Ok{};
}

void addResultFlags(CLI::App& command, Options& options) {
  command.add_option("--csv-prefix", options.csv_prefix,
                     "Also write Locust-style PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv");
  command.add_option("--note", options.note, "Free text kept with the run (report and ledger): what changed, why");
  auto* ledger = command.add_option("--ledger", options.ledger,
                                    "Append the run to this ledger (default herd-ledger.jsonl)");
  command.add_flag("--no-ledger", options.no_ledger, "Do not append the run to the ledger")->excludes(ledger);
}

}  // namespace herd::cli
