#pragma once
// The run ledger: one JSON object per line (JSON Lines) per finished run — when,
// which scenario (name and content hash), the parameters, the headline results,
// the verdict and the user's note — so a series of runs ("double the users until
// it breaks") can be listed and compared. Pure builders and formatters here;
// agent/cli reads and writes the file.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/json.h"

#include "common/core/result.h"
#include "common/scenario/plan.h"

namespace herd::output {

constexpr int kLedgerVersion = 1;

// The row for one run, from its summary.json (so delivery counts appear when the
// summary has them) and the plan it ran.
Json ledgerRow(const Json& summary, const scenario::Plan& plan, std::string_view scenario_sha256,
               std::string_view note);

// Parses a whole ledger file; a bad line is an Error naming `source:LINE`. Blank
// lines are skipped. Rows keep any fields they have (newer versions may add some).
Result<std::vector<Json>> parseLedger(std::string_view text, const std::string& source);

// One line of JSON for the file, '\n' included.
std::string ledgerLine(const Json& row);

// The runs as a table, numbered from 1 in file order (the numbers `compare` takes).
std::string formatLedger(const std::vector<Json>& rows);
// The same as CSV for spreadsheets (a header row, then one row per run).
std::string ledgerCsv(const std::vector<Json>& rows);

// A run by its number in the ledger (1 = first, -1 = last, -2 = the one before),
// or by its run id.
Result<size_t> findRun(const std::vector<Json>& rows, std::string_view reference);

// A run of the ledger as a baseline's results (report/baseline.h): its totals and
// its thresholds' measured values, in summary.json's shape.
Json ledgerBaseline(const Json& row);

// Which parameters differ between two runs, and each metric's change; then each
// run's thresholds that were judged against a baseline.
std::string formatComparison(const Json& a, const Json& b, size_t a_number, size_t b_number);

}  // namespace herd::output
