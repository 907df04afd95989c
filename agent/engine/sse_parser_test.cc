#include "agent/engine/sse_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace herd::engine {
namespace {

struct Event {
  std::string type, data, id;
  bool operator==(const Event&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Event& e) {
  return out << "{" << e.type << "|" << e.data << "|" << e.id << "}";
}

std::vector<Event> parse(SseParser& parser, std::string_view input, size_t step) {
  std::vector<Event> events;
  for (size_t at = 0; at < input.size(); at += step) {
    parser.feed(input.substr(at, step), [&](const SseEvent& e) {
      events.push_back(Event{std::string(e.type), std::string(e.data), std::string(e.id)});
    });
  }
  return events;
}

// The same events however the stream is split into reads.
std::vector<Event> parseEverySplit(std::string_view input) {
  SseParser whole_parser;
  const auto whole = parse(whole_parser, input, input.size() + 1);
  for (size_t step = 1; step < input.size(); ++step) {
    SseParser parser;
    EXPECT_EQ(parse(parser, input, step), whole) << "step " << step;
  }
  return whole;
}

// The HTML standard's examples for event streams.
TEST(SseParser, StandardExamples) {
  EXPECT_EQ(parseEverySplit("data: YHOO\ndata: +2\ndata: 10\n\n"),
            (std::vector<Event>{{"message", "YHOO\n+2\n10", ""}}));
  EXPECT_EQ(
      parseEverySplit(": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n"),
      (std::vector<Event>{
          {"message", "first event", "1"}, {"message", "second event", ""}, {"message", " third event", ""}}));
  EXPECT_EQ(parseEverySplit("data\n\ndata\ndata\n\ndata:"),
            (std::vector<Event>{{"message", "", ""}, {"message", "\n", ""}}));
}

TEST(SseParser, LineEndingsMixedAndSplit) {
  EXPECT_EQ(parseEverySplit("event: add\r\ndata: a\r\rdata: b\n\r\nid: 7\rdata: c\r\n\n"),
            (std::vector<Event>{{"add", "a", ""}, {"message", "b", ""}, {"message", "c", "7"}}));
}

TEST(SseParser, BomOnlyAtTheStart) {
  EXPECT_EQ(parseEverySplit("\xEF\xBB\xBF"
                            "data: x\n\n"),
            (std::vector<Event>{{"message", "x", ""}}));
  // A BOM-like prefix that is not one is line content: the field name is unknown.
  EXPECT_EQ(parseEverySplit("\xEF\xBB"
                            "data: x\n\ndata: y\n\n"),
            (std::vector<Event>{{"message", "y", ""}}));
}

TEST(SseParser, IdAndRetrySurviveReconnect) {
  SseParser parser;
  using namespace std::literals;
  parse(parser, "id: 41\nretry: 2500\ndata: a\n\nretry: soon\nid: bad\0id\ndata: partial"sv, 5);
  EXPECT_EQ(parser.lastEventId(), "41");
  EXPECT_EQ(parser.retryMs(), 2500u);
  parser.reconnect();  // the partial event is gone, the position is not
  EXPECT_EQ(parse(parser, "data: b\n\n", 3), (std::vector<Event>{{"message", "b", "41"}}));
}

TEST(SseParser, AnEndlessLineFailsAtTheBound) {
  SseParser parser(64);
  EXPECT_TRUE(parser.feed(std::string(60, 'a'), [](const SseEvent&) {}));
  EXPECT_FALSE(parser.feed(std::string(10, 'a'), [](const SseEvent&) {}));
  EXPECT_TRUE(parser.failed());
}

}  // namespace
}  // namespace herd::engine
