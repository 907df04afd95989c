// `herd ledger` lists the runs in a ledger; `herd compare A B` shows what changed
// between two of them. Both only read the file that `herd run` appends to.
#include <cstdio>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "agent/cli/cli11.h"
#include "agent/cli/commands.h"
#include "agent/output/ledger.h"
#include "common/report/baseline.h"

namespace herd::cli {

Result<std::vector<Json>> readLedger(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Error{"cannot open the ledger (runs append to ./herd-ledger.jsonl unless --ledger says otherwise)", path};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error{"cannot read the ledger", path};
  return output::parseLedger(text.str(), path);
}

Status applyLedgerBaseline(const Options& options, std::vector<report::Threshold>& thresholds) {
  if (options.baseline.empty()) {
    report::applyBaseline(thresholds, std::nullopt, "no baseline run (herd run --baseline RUN names one)");
    return Ok{};
  }
  auto rows = readLedger(options.ledger);
  if (!rows) return Error{rows.error().describe(), "--baseline " + options.baseline};
  auto found = output::findRun(*rows, options.baseline);
  if (!found) return Error{found.error().message + " in " + options.ledger, "--baseline " + options.baseline};
  const auto& row = (*rows)[*found];
  report::applyBaseline(
      thresholds,
      report::Baseline{row.value("runId", std::string()), "ledger " + options.ledger, output::ledgerBaseline(row)}, "");
  return Ok{};
}

namespace {

int fail(const Error& error) {
  fmt::print(stderr, "herd: error: {}\n", error.describe());
  return kExitInvalidInput;
}

int listRuns(const Options& options) {
  auto rows = readLedger(options.ledger);
  if (!rows) return fail(rows.error());
  fmt::print("{}", options.ledger_csv ? output::ledgerCsv(*rows) : output::formatLedger(*rows));
  return kExitPassed;
}

int compareRuns(const Options& options) {
  auto rows = readLedger(options.ledger);
  if (!rows) return fail(rows.error());
  auto a = output::findRun(*rows, options.compare_runs.at(0));
  if (!a) return fail(a.error());
  auto b = output::findRun(*rows, options.compare_runs.at(1));
  if (!b) return fail(b.error());
  fmt::print("{}", output::formatComparison((*rows)[*a], (*rows)[*b], *a + 1, *b + 1));
  return kExitPassed;
}

}  // namespace

void addLedgerCommands(CLI::App& app, Options& options) {
  auto* ledger = app.add_subcommand("ledger", "List the runs recorded in the ledger");
  ledger->add_option("--ledger", options.ledger, "Ledger file (default herd-ledger.jsonl)");
  ledger->add_flag("--csv", options.ledger_csv, "Print CSV for a spreadsheet instead of a table");

  auto* compare = app.add_subcommand("compare", "Show changed parameters and metric deltas between two runs");
  compare
      ->add_option("runs", options.compare_runs,
                   "Two runs: numbers as `herd ledger` shows them (-1 is the last, -2 the one before) or run ids")
      ->required()
      ->expected(2);
  compare->add_option("--ledger", options.ledger, "Ledger file (default herd-ledger.jsonl)");
}

int ledgerCommand(const CLI::App& app, const Options& options) {
  if (app.got_subcommand("ledger")) return listRuns(options);
  if (app.got_subcommand("compare")) return compareRuns(options);
  return -1;
}

}  // namespace herd::cli
