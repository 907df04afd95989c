#include "common/report/compress.h"

#include <gtest/gtest.h>

namespace herd::report {
namespace {

TEST(Compress, GzipRoundTripsAndShrinksText) {
  std::string page;
  for (int i = 0; i < 2000; ++i) page += "<tr><td>/products?page=" + std::to_string(i % 50) + "</td></tr>\n";
  const auto packed = gzip(page);
  EXPECT_LT(packed.size() * 10, page.size());
  EXPECT_EQ(static_cast<unsigned char>(packed[0]), 0x1f);  // a gzip header: `gunzip` reads it too
  EXPECT_EQ(static_cast<unsigned char>(packed[1]), 0x8b);
  EXPECT_EQ(*gunzip(packed), page);
  EXPECT_EQ(*gunzip(gzip("")), "");
  EXPECT_FALSE(gunzip("plain text"));
  EXPECT_FALSE(gunzip(packed.substr(0, packed.size() / 2)));
}

TEST(Compress, Base64AsKubernetesWritesIt) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(*base64Decode("Zm9vYmE=\n"), "fooba");
  EXPECT_EQ(*base64Decode("Zg=="), "f");
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  EXPECT_EQ(*base64Decode(base64Encode(bytes)), bytes);
  EXPECT_FALSE(base64Decode("Zm9v!"));
  EXPECT_FALSE(base64Decode("Z"));
}

}  // namespace
}  // namespace herd::report
