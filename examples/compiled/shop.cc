// A shop's buyer written in C++: every order is signed with HMAC-SHA256 over
// the method, path, timestamp and body (a per-request signature a YAML step
// cannot compute), the way many payment APIs authenticate their clients.
// Built with herd_add_scenario() (CMakeLists.txt beside it) and named by
// shop.yaml; docs/compiled-scenarios.md walks through it.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

#include <herd/herd.h>

namespace {

std::string hmacSha256Hex(const std::string& key, const std::string& message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length) == nullptr) {
    throw std::runtime_error("HMAC failed");
  }
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

class Buyer : public herd::UserClass {
 public:
  herd::Task onStart(herd::User& user) override {
    // The signing key is a param of the run (-p apiKey=...), one per user here.
    const std::string* key = user.param("apiKey");
    key_ = (key != nullptr ? *key : std::string("demo-key")) + "-" + std::to_string(user.index());
    herd::Request login;
    login.method = "POST";
    login.path = "/login";
    login.endpoint = "login";
    login.body = "{\"user\":\"u" + std::to_string(user.index()) + "\"}";
    login.headers = {{"Content-Type", "application/json"}};
    const herd::Response response = co_await user.request(std::move(login));
    user.check(response.status == 200, "logged in");
  }

  herd::Task iteration(herd::User& user) override {
    const herd::Response catalog = co_await user.get(
        "/products?page=" + std::to_string(static_cast<int>(1 + user.random() * 50)), "catalog");
    user.check(catalog.ok(), "catalog served");
    co_await user.sleep(std::chrono::milliseconds(10));
    co_await order(user, static_cast<int>(1 + user.random() * 5));
  }

 private:
  // A helper coroutine: the caller co_awaits it like a request.
  herd::Task order(herd::User& user, int items) {
    herd::Request request;
    request.method = "POST";
    request.path = "/checkout";
    request.endpoint = "checkout";
    request.body = "{\"items\":" + std::to_string(items) + "}";
    const std::string timestamp = std::to_string(++sequence_);
    const std::string signature = hmacSha256Hex(
        key_, request.method + "\n" + request.path + "\n" + timestamp + "\n" + request.body);
    request.headers = {
        {"Content-Type", "application/json"}, {"X-Timestamp", timestamp}, {"X-Signature", "sha256=" + signature}};
    const herd::Response response = co_await user.request(std::move(request));
    user.check(response.status == 200, "order accepted");
  }

  std::string key_;
  uint64_t sequence_ = 0;
};

// A class that fails on purpose one iteration in four: its exception ends the
// iteration, shows in the errors table, and the user goes on.
class Flaky : public herd::UserClass {
 public:
  herd::Task iteration(herd::User& user) override {
    co_await user.get("/status", "status");
    if (++iterations_ % 4 == 0) throw std::runtime_error("inventory out of sync");
  }

 private:
  uint64_t iterations_ = 0;
};

}  // namespace

HERD_SCENARIO(herd::userClass<Buyer>("Buyer", {"POST login", "GET catalog", "POST checkout"},
                                     {"logged in", "catalog served", "order accepted"}),
              herd::userClass<Flaky>("Flaky", {"GET status"}))
