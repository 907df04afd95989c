// Tokens from the kernel's CSPRNG: the right length and alphabet, never the
// same twice, and bits that look uniform (a stuck or truncated source fails).
#include "common/core/secure_random.h"

#include <gtest/gtest.h>

#include <array>
#include <set>

namespace herd {
namespace {

TEST(SecureRandom, TokensAre64HexDigitsAndNeverRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    const auto token = newToken();
    ASSERT_EQ(token.size(), 64u);
    ASSERT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos) << token;
    ASSERT_TRUE(seen.insert(token).second) << "repeated: " << token;
  }
}

// Every one of the 256 bit positions is set in about half of the tokens: a
// source that leaves bytes zero (a short read) or repeats a pattern does not.
TEST(SecureRandom, EveryBitOfATokenVaries) {
  constexpr int kTokens = 4000;
  std::array<int, kTokenBytes * 8> ones{};
  for (int i = 0; i < kTokens; ++i) {
    const auto token = newToken();
    for (size_t digit = 0; digit < token.size(); ++digit) {
      const int nibble = token[digit] <= '9' ? token[digit] - '0' : token[digit] - 'a' + 10;
      for (int bit = 0; bit < 4; ++bit) ones[digit * 4 + bit] += (nibble >> bit) & 1;
    }
  }
  // Binomial(4000, 1/2): the standard deviation is ~32; 250 is ~8 of them.
  for (size_t bit = 0; bit < ones.size(); ++bit) {
    EXPECT_NEAR(ones[bit], kTokens / 2, 250) << "bit " << bit;
  }
}

TEST(SecureRandom, SixtyFourBitValuesDiffer) {
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(secureRandom64());
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace herd
