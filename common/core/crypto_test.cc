#include "common/core/crypto.h"

#include <string>

#include <gtest/gtest.h>

namespace herd {
namespace {

// FIPS 180-4's examples (NIST's "SHA256.pdf") and one million 'a's.
TEST(Crypto, Sha256HexGivesTheStandardsDigests) {
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256Hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Crypto, EqualInConstantTimeComparesContentAndLength) {
  EXPECT_TRUE(equalInConstantTime("", ""));
  EXPECT_TRUE(equalInConstantTime("token", "token"));
  EXPECT_FALSE(equalInConstantTime("token", "tokem"));
  EXPECT_FALSE(equalInConstantTime("token", "token2"));
  EXPECT_FALSE(equalInConstantTime("", "x"));
}

}  // namespace
}  // namespace herd
