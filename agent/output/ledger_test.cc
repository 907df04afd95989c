#include "agent/output/ledger.h"

#include <gtest/gtest.h>

namespace herd::output {
namespace {

using json = Json;

json summary(const std::string& run_id, double rps, double p95, uint64_t requests, uint64_t failures) {
  return json{{"runId", run_id},
              {"startTime", "2026-11-23T11:50:58.407Z"},
              {"agents", 1},
              {"durationSeconds", 10.0},
              {"verdict", failures ? "failed" : "passed"},
              {"users", {{"peak", 100}}},
              {"totals",
               {{"requests", requests},
                {"failures", failures},
                {"rps", rps},
                {"latency", {{"p50", 1.0}, {"p95", p95}, {"p99", 2 * p95}}}}},
              {"delivery", json::array({json{{"stream", "a"}, {"lost", 2}, {"duplicates", 1}},
                                        json{{"stream", "b"}, {"lost", 3}, {"duplicates", 0}}})}};
}

scenario::Plan plan(const std::string& page_size) {
  scenario::Plan p;
  p.name = "shop";
  p.source_file = "shop.yaml";
  p.params = {{"pageSize", page_size}, {"tenant", "acme"}};
  p.origins = {{"http", "127.0.0.1", 8080}};
  p.load.users = 100;
  p.load.spawn_rate = 10;
  p.load.duration = std::chrono::seconds(10);
  return p;
}

TEST(Ledger, RowHoldsParamsResultsAndDeliveryTotals) {
  const auto row = ledgerRow(summary("shop-1", 812.5, 12.0, 8125, 16), plan("20"), "ab12", "baseline");
  EXPECT_EQ(row["ledgerVersion"], 1);
  EXPECT_EQ(row["runId"], "shop-1");
  EXPECT_EQ(row["scenario"], "shop");
  EXPECT_EQ(row["scenarioSha256"], "ab12");
  EXPECT_EQ(row["params"], (json{{"pageSize", "20"}, {"tenant", "acme"}}));
  EXPECT_EQ(row["users"], 100);
  EXPECT_EQ(row["spawnRate"], 10.0);
  EXPECT_EQ(row["plannedDurationSeconds"], 10.0);
  EXPECT_EQ(row["target"], "http://127.0.0.1:8080");
  EXPECT_EQ(row["rps"], 812.5);
  EXPECT_EQ(row["p95"], 12.0);
  EXPECT_NEAR(row["failurePercent"].get<double>(), 16.0 / 8125 * 100, 1e-12);
  EXPECT_EQ(row["lost"], 5);
  EXPECT_EQ(row["duplicates"], 1);
  EXPECT_EQ(row["verdict"], "failed");
  EXPECT_EQ(row["note"], "baseline");
}

TEST(Ledger, ParsesLinesAndNamesTheBadOne) {
  const auto a = ledgerLine(ledgerRow(summary("shop-1", 1, 1, 1, 0), plan("20"), "x", ""));
  const auto b = ledgerLine(ledgerRow(summary("shop-2", 1, 1, 1, 0), plan("50"), "x", ""));
  auto rows = parseLedger(a + "\n" + b, "l.jsonl");
  ASSERT_TRUE(rows.ok()) << rows.error().describe();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[1]["params"]["pageSize"], "50");

  auto bad = parseLedger(a + "{not json\n", "l.jsonl");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().where, "l.jsonl:2");
  auto no_id = parseLedger(a + "[1]\n", "l.jsonl");
  ASSERT_FALSE(no_id.ok());
  auto without_run_id = parseLedger("{\"rps\": 3}\n", "l.jsonl");
  ASSERT_FALSE(without_run_id.ok());
  EXPECT_NE(without_run_id.error().message.find("runId"), std::string::npos);
}

TEST(Ledger, FindsRunsByNumberFromEitherEndOrById) {
  std::vector<json> rows = {json{{"runId", "a"}}, json{{"runId", "b"}}, json{{"runId", "c"}}};
  EXPECT_EQ(*findRun(rows, "1"), 0u);
  EXPECT_EQ(*findRun(rows, "-1"), 2u);
  EXPECT_EQ(*findRun(rows, "-3"), 0u);
  EXPECT_EQ(*findRun(rows, "b"), 1u);
  EXPECT_FALSE(findRun(rows, "4").ok());
  EXPECT_FALSE(findRun(rows, "0").ok());
  EXPECT_FALSE(findRun(rows, "-4").ok());
  EXPECT_FALSE(findRun(rows, "zz").ok());
}

TEST(Ledger, ListingAndCsvShowEveryRun) {
  std::vector<json> rows = {ledgerRow(summary("shop-1", 812.5, 12.0, 100, 0), plan("20"), "ab12cd34ef", "base, line"),
                            ledgerRow(summary("shop-2", 1600, 30.0, 200, 2), plan("50"), "ab12cd34ef", "")};
  const auto listing = formatLedger(rows);
  EXPECT_NE(listing.find("pageSize=20 tenant=acme"), std::string::npos) << listing;
  EXPECT_NE(listing.find("shop-2"), std::string::npos);
  EXPECT_NE(listing.find("812.5"), std::string::npos);
  EXPECT_NE(listing.find("ab12cd34 "), std::string::npos);
  const auto csv = ledgerCsv(rows);
  EXPECT_EQ(csv.substr(0, 23), "number,time,runId,scena");
  EXPECT_NE(csv.find("\"base, line\""), std::string::npos);
  EXPECT_EQ(formatLedger({}), "no runs in the ledger yet\n");
}

TEST(Ledger, ComparisonShowsChangedParamsAndDeltas) {
  const auto a = ledgerRow(summary("shop-1", 800, 12.0, 8000, 0), plan("20"), "ab12", "baseline");
  auto b_plan = plan("50");
  b_plan.load.users = 200;
  const auto b = ledgerRow(summary("shop-2", 1600, 30.0, 16000, 160), b_plan, "ab12", "double");
  const auto text = formatComparison(a, b, 1, 2);
  EXPECT_NE(text.find("A: #1 shop-1"), std::string::npos) << text;
  EXPECT_NE(text.find("-p pageSize  20   50"), std::string::npos) << text;
  EXPECT_NE(text.find("users        100  200"), std::string::npos) << text;
  EXPECT_NE(text.find("-p tenant=acme"), std::string::npos) << text;  // unchanged
  EXPECT_NE(text.find("+800 (+100.0%)"), std::string::npos) << text;  // rps
  EXPECT_NE(text.find("+18 (+150.0%)"), std::string::npos) << text;   // p95
  EXPECT_NE(text.find("passed  failed"), std::string::npos) << text;
  EXPECT_NE(text.find("A: baseline"), std::string::npos);
  EXPECT_NE(formatComparison(a, a, 1, 1).find("Parameters: none changed"), std::string::npos);
}

TEST(Ledger, ToleratesRowsWithMissingOrOddFields) {
  std::vector<json> rows = {json{{"runId", "x"}, {"rps", "fast"}, {"params", 3}}, json{{"runId", "y"}}};
  EXPECT_NO_THROW(formatLedger(rows));
  EXPECT_NO_THROW(ledgerCsv(rows));
  EXPECT_NO_THROW(formatComparison(rows[0], rows[1], 1, 2));
}

}  // namespace
}  // namespace herd::output
