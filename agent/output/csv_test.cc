#include "agent/output/csv.h"

#include <gtest/gtest.h>

#include <sstream>

namespace herd::output {
namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const auto end = text.find("\r\n", pos);
    EXPECT_NE(end, std::string::npos) << "rows end with \\r\\n like Python's csv module";
    if (end == std::string::npos) break;
    out.push_back(text.substr(pos, end - pos));
    pos = end + 2;
  }
  return out;
}

struct Fixture {
  scenario::Plan plan;
  report::RunAggregate aggregate{3};
  report::RunInfo info;
  Fixture() {
    plan.endpoints = {{"/b", "GET"}, {"login, \"quoted\"", "POST"}, {"/a", "GET"}};
    stats::Recorder second(3);
    for (int i = 0; i < 99; ++i) second.recordRequest(0, 2'000'000, 100, 10, stats::ErrorKind::kNone);  // 2 ms
    second.recordRequest(0, 147'000'000, 300, 10, stats::ErrorKind::kStatus, 503);                      // 147 ms
    second.recordRequest(1, 1'000'000, 50, 10, stats::ErrorKind::kTimeout);
    aggregate.add(second);
    aggregate.closeSecond(1.0, 4, 0.1);
    aggregate.closeSecond(2.0, 4, 0.1);  // a quiet second
    info.duration_seconds = 2;
    info.start = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  }
};

TEST(Csv, StatsFileHasLocustsColumnsRowsAndAggregate) {
  Fixture f;
  const auto rows = lines(statsCsv(f.plan, f.aggregate, f.info));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0],
            "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
            "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
            "99.99%,100%");
  // Sorted by name: /a, /b, then the quoted one; endpoints without requests say N/A.
  EXPECT_EQ(rows[1], "GET,/a,0,0,0,0.0,0.0,0.0,0.0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A");
  EXPECT_EQ(rows[2], "GET,/b,100,1,2,3.45,2.0,147.0,102.0,50.0,0.5,2,2,2,2,2,2,2,2,150,150,150");
  EXPECT_EQ(rows[3].substr(0, 31), "POST,\"login, \"\"quoted\"\"\",1,1,1,");
  EXPECT_EQ(rows[4].substr(0, 20), ",Aggregated,101,2,2,");
}

TEST(Csv, FromASummaryAloneTheSameColumnsWithWhatTheSummaryLacksAsNA) {
  Fixture f;
  const auto summary = report::buildSummary(f.plan, f.aggregate, f.info);
  const auto full = lines(statsCsv(f.plan, f.aggregate, f.info));
  const auto rows = lines(statsCsvFromSummary(summary));
  ASSERT_EQ(rows.size(), full.size());
  EXPECT_EQ(rows[0], full[0]);
  EXPECT_EQ(rows[1], "GET,/a,0,0,0,0.0,N/A,0.0,0.0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A");
  // Min and the 66/75/80/98/99.9/99.99% columns are not in the summary; the rest agrees.
  EXPECT_EQ(rows[2], "GET,/b,100,1,2,3.45,N/A,147.0,102.0,50.0,0.5,2,N/A,N/A,N/A,2,2,N/A,2,N/A,N/A,150");
  EXPECT_EQ(rows[3].substr(0, 31), full[3].substr(0, 31));
  EXPECT_EQ(rows[4].substr(0, 20), full[4].substr(0, 20));

  const auto failures = lines(failuresCsvFromSummary(summary));
  const auto failures_full = lines(failuresCsv(f.plan, f.aggregate));
  EXPECT_EQ(failures, failures_full);
  EXPECT_EQ(lines(statsCsvFromSummary(Json::object())).size(), 2u);  // a header and an empty Aggregated row
}

TEST(Csv, AProtocolColumnEndsTheRowsOnlyWhenHttp2Answered) {
  Fixture f;
  EXPECT_EQ(lines(statsCsv(f.plan, f.aggregate, f.info))[0].find("Protocol"), std::string::npos);
  stats::Recorder http2(3);
  http2.recordRequest(2, 1'000'000, 10, 10, stats::ErrorKind::kNone);
  http2.recordProtocol(2, 2);
  http2.recordProtocol(0, 1);
  f.aggregate.add(http2);
  f.aggregate.closeSecond(3.0, 4, 0.1);
  const auto rows = lines(statsCsv(f.plan, f.aggregate, f.info));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_TRUE(rows[0].ends_with(",100%,Protocol"));
  EXPECT_TRUE(rows[1].ends_with(",HTTP/2")) << rows[1];  // /a
  EXPECT_TRUE(rows[2].ends_with(",HTTP/1.1")) << rows[2];
  EXPECT_TRUE(rows[3].ends_with(",")) << rows[3];  // no response: no protocol
  EXPECT_TRUE(rows[4].ends_with(",HTTP/1.1+HTTP/2")) << rows[4];
}

TEST(Csv, MedianStaysWithinMinAndMaxLikeLocusts) {
  scenario::Plan plan;
  plan.endpoints = {{"/fast", "GET"}};
  report::RunAggregate aggregate(1);
  stats::Recorder second(1);
  second.recordRequest(0, 300'000, 100, 10, stats::ErrorKind::kNone);  // 0.3 ms rounds to 0
  second.recordRequest(0, 400'000, 100, 10, stats::ErrorKind::kNone);
  aggregate.add(second);
  aggregate.closeSecond(1.0, 1, 0.1);
  report::RunInfo info;
  info.duration_seconds = 1;
  const auto rows = lines(statsCsv(plan, aggregate, info));
  EXPECT_EQ(rows[1].substr(0, 19), "GET,/fast,2,0,0.3,0") << rows[1];
}

TEST(Csv, HistoryHasOneAggregatedRowPerSecond) {
  Fixture f;
  const auto rows = lines(statsHistoryCsv(f.aggregate, f.info));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0],
            "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,"
            "Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,"
            "Total Min Response Time,Total Max Response Time,Total Average Content Size");
  EXPECT_EQ(rows[1].substr(0, 50), "1700000001,4,,Aggregated,101.000000,2.000000,2,2,2");
  // The quiet second: no requests in it, the totals carried over.
  EXPECT_EQ(rows[2].substr(0, 42), "1700000002,4,,Aggregated,0.000000,0.000000");
  EXPECT_NE(rows[2].find(",101,2,2,"), std::string::npos) << rows[2];
}

TEST(Csv, FailuresFileCountsEachEndpointAndError) {
  Fixture f;
  const auto rows = lines(failuresCsv(f.plan, f.aggregate));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], "Method,Name,Error,Occurrences");
  EXPECT_EQ(rows[1], "GET,/b,status: HTTP 503,1");
  EXPECT_EQ(rows[2], "POST,\"login, \"\"quoted\"\"\",timeout: request timed out,1");
}

TEST(Csv, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(csvField("plain /path?x=1"), "plain /path?x=1");
  EXPECT_EQ(csvField("a,b"), "\"a,b\"");
  EXPECT_EQ(csvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csvField("two\nlines"), "\"two\nlines\"");
}

}  // namespace
}  // namespace herd::output
