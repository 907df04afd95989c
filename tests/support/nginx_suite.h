#pragma once
// A GoogleTest fixture base whose suite shares one real nginx (nginx_server.h):
// started once before the suite's first test and stopped after its last. A
// server that cannot start fails every test of the suite with the reason.
// Header-only, so herd_test_support itself does not depend on GoogleTest.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/nginx_server.h"

namespace herd::test_support {

class NginxSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = NginxServer::start();
    if (!server.ok()) {
      start_error_ = server.error().describe();
      return;
    }
    nginx_ = std::move(*server);
  }
  static void TearDownTestSuite() { nginx_.reset(); }

  void SetUp() override { ASSERT_NE(nginx_, nullptr) << start_error_; }

  // Each derived suite has its own server: GoogleTest calls SetUpTestSuite per
  // suite, and one suite's TearDownTestSuite stops its server before the next starts.
  static inline std::unique_ptr<NginxServer> nginx_;
  static inline std::string start_error_;
};

}  // namespace herd::test_support
