// libFuzzer target: any ledger file must parse or fail with an Error naming the
// line, and whatever parses must list, export and compare without crashing (the
// file is user-editable, so every field may be missing or of any type).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/output/ledger.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rows = herd::output::parseLedger(text, "fuzz.jsonl");
  if (!rows) {
    if (rows.error().where.rfind("fuzz.jsonl:", 0) != 0) __builtin_trap();
    return 0;
  }
  herd::output::formatLedger(*rows);
  herd::output::ledgerCsv(*rows);
  if (!rows->empty()) {
    herd::output::formatComparison(rows->front(), rows->back(), 1, rows->size());
    (void)herd::output::findRun(*rows, "-1");
  }
  return 0;
}
