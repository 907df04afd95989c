#include "agent/cli/outputs.h"

#include <filesystem>

#include "common/report/csv.h"
#include "common/report/html_report.h"

namespace herd::cli {

Status writeRunOutputs(const Options& options, const scenario::Plan& plan, const report::RunAggregate& aggregate,
                       const report::RunInfo& info) {
  // Names in a scenario may hold invalid UTF-8; they are replaced, never thrown on.
  const auto summary =
      report::buildSummary(plan, aggregate, info).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (!options.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.out_dir, ec);
    if (ec) return Error{ec.message(), options.out_dir};
    if (auto s = report::writeFile(options.out_dir + "/summary.json", summary); !s) return s;
    const auto prefix = options.out_dir + "/" + kCsvPrefixInOut;
    if (auto s = report::writeCsvFiles(prefix, plan, aggregate, info); !s) return s;
    const auto html = report::buildHtmlReport(plan, aggregate, info, options.note);
    if (auto s = report::writeFile(options.out_dir + "/report.html", html); !s) return s;
  }
  if (!options.summary_json.empty()) {
    if (auto s = report::writeFile(options.summary_json, summary); !s) return s;
  }
  if (!options.csv_prefix.empty()) {
    if (auto s = report::writeCsvFiles(options.csv_prefix, plan, aggregate, info); !s) return s;
  }
  return Ok{};
}

void addResultFlags(CLI::App& command, Options& options) {
  command.add_option("--csv-prefix", options.csv_prefix,
                     "Also write Locust-style PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv");
  command.add_option("--note", options.note, "Free text kept with the run (report and ledger): what changed, why");
}

}  // namespace herd::cli
