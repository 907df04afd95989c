// A Redis client over herd's raw TCP connection: each iteration SETs the
// user's key and GETs it back, one command at a time (no pipelining), each
// counted as an exchange of its endpoint. RESP (the Redis serialization
// protocol) is a protocol herd does not speak itself.
#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

#include <herd/herd.h>

namespace {

std::string command(std::initializer_list<std::string_view> parts) {
  std::string out = "*" + std::to_string(parts.size()) + "\r\n";
  for (const auto part : parts) {
    out += "$" + std::to_string(part.size()) + "\r\n";
    out += part;
    out += "\r\n";
  }
  return out;
}

// The length of the first complete reply in `data`, or 0 while it is not all there.
// Simple strings, errors, integers and bulk strings: what SET and GET answer.
size_t replyLength(std::string_view data) {
  const size_t line_end = data.find("\r\n");
  if (line_end == std::string_view::npos) return 0;
  if (data[0] != '$') return line_end + 2;
  const long length = std::stol(std::string(data.substr(1, line_end - 1)));
  if (length < 0) return line_end + 2;  // the null bulk string
  const size_t total = line_end + 2 + static_cast<size_t>(length) + 2;
  return data.size() >= total ? total : 0;
}

class RespClient : public herd::UserClass {
 public:
  herd::Task onStart(herd::User& user) override {
    const std::string* port = user.param("redisPort");
    if (const std::string error = co_await user.connect(port ? static_cast<uint16_t>(std::stoi(*port)) : 0);
        !error.empty()) {
      throw std::runtime_error("connect: " + error);
    }
    key_ = "herd:user:" + std::to_string(user.index());
  }

  herd::Task iteration(herd::User& user) override {
    // Built before the co_await: GCC 12 rejects an initializer list inside one.
    const std::string value = std::to_string(++value_);
    std::string set = command({"SET", key_, value});
    co_await exchange(user, "SET", std::move(set), "+OK");
    std::string get = command({"GET", key_});
    co_await exchange(user, "GET", std::move(get), "$");
  }

 private:
  // Sends one command, reads its whole reply, and records it.
  herd::Task exchange(herd::User& user, std::string_view endpoint, std::string request, std::string_view expected) {
    const auto start = std::chrono::steady_clock::now();
    std::string error = co_await user.write(std::move(request));
    size_t length = 0;
    while (error.empty() && (length = replyLength(user.received())) == 0) error = co_await user.read();
    const auto latency = std::chrono::steady_clock::now() - start;
    if (error.empty() && user.received().compare(0, expected.size(), expected) != 0) {
      error = "unexpected reply " + user.received().substr(0, length > 2 ? length - 2 : length);
    }
    user.record(endpoint, latency, error);
    if (length > 0) user.received().erase(0, length);
    if (!error.empty() && length == 0) throw std::runtime_error(std::string(endpoint) + ": " + error);
  }

  std::string key_;
  uint64_t value_ = 0;
};

}  // namespace

HERD_SCENARIO(herd::userClass<RespClient>("RespClient", {"SET", "GET"}))
