#include "common/k8s/watch_decoder.h"

#include <gtest/gtest.h>

namespace herd::k8s {
namespace {

const std::string kAdded = R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}})";
const std::string kBookmark = R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}})";

TEST(WatchDecoder, EventsSplitAnywhereAreReassembled) {
  const std::string stream = kAdded + "\n" + kBookmark + "\n";
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    WatchDecoder d;
    std::vector<WatchEvent> all;
    ASSERT_TRUE(d.feed(std::string_view(stream).substr(0, cut), all).ok()) << cut;
    ASSERT_TRUE(d.feed(std::string_view(stream).substr(cut), all).ok()) << cut;
    ASSERT_EQ(all.size(), 2u) << cut;
    EXPECT_EQ(all[0].type, WatchEvent::Type::Added);
    EXPECT_EQ(all[0].object["metadata"]["name"], "a");
    EXPECT_EQ(all[1].type, WatchEvent::Type::Bookmark);
    EXPECT_FALSE(d.pending());
  }
}

TEST(WatchDecoder, PartialEventIsPending) {
  WatchDecoder d;
  std::vector<WatchEvent> out;
  ASSERT_TRUE(d.feed(kAdded.substr(0, 10), out).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(d.pending());
}

TEST(WatchDecoder, BlankLinesAndCrlfAreIgnored) {
  WatchDecoder d;
  std::vector<WatchEvent> out;
  ASSERT_TRUE(d.feed("\n\r\n" + kAdded + "\r\n\n", out).ok());
  EXPECT_EQ(out.size(), 1u);
}

TEST(WatchDecoder, GarbageIsAnErrorWithContext) {
  for (std::string bad : {"<html>502 Bad Gateway</html>\n", "[1,2]\n",
                          R"({"type":"EXPLODED","object":{}})"
                          "\n",
                          R"({"type":"ADDED"})"
                          "\n",
                          R"({"type":"ADDED","object":"x"})"
                          "\n",
                          "{\"type\n"}) {
    WatchDecoder d;
    std::vector<WatchEvent> out;
    auto r = d.feed(bad, out);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().where, "watch stream");
    EXPECT_FALSE(r.error().message.empty());
  }
}

TEST(WatchDecoder, OverlongLineIsRefused) {
  WatchDecoder d(64);
  std::vector<WatchEvent> out;
  auto r = d.feed(std::string(100, 'x'), out);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("longer than 64"), std::string::npos);
}

TEST(WatchDecoder, EventsBeforeGarbageInTheSameReadAreKept) {
  WatchDecoder d;
  std::vector<WatchEvent> out;
  EXPECT_FALSE(d.feed(kAdded + "\n" + kBookmark + "\n<html>\n", out).ok());
  EXPECT_EQ(out.size(), 2u);
}

TEST(WatchDecoder, ErrorEventCarriesStatus) {
  auto ev = parseWatchEvent(R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})");
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->type, WatchEvent::Type::Error);
  EXPECT_EQ(ev->object["code"], 410);
}

}  // namespace
}  // namespace herd::k8s
