// C++ classes that use what a YAML scenario has: a row of a data feeder per user,
// values captured out of responses (JSONPath, regex, header) the way YAML
// captures do, HTTP/2 and a second origin, and a raw connection over TLS.
// Named by api.yaml; docs/compiled-scenarios.md walks through them.
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <herd/herd.h>

namespace {

using namespace std::chrono_literals;

// A member logs in with its own row of the `accounts` data source (pick:
// unique, so no two users anywhere share one; a user that finds none left
// stops), keeps the token the login answered, and reads a page whose form
// carries a CSRF token.
class Member : public herd::UserClass {
 public:
  herd::Task onStart(herd::User& user) override {
    if (!user.feed("accounts")) co_return;  // used up: this user stops (onStop runs)
    name_ = user.variable("accounts.name");
    const herd::Response login = co_await user.get("/api/login?user=" + name_, "login");
    token_ = user.capture(login, herd::Capture::jsonPath("$.token")).value_or("");
    user.check(token_ == "t-" + name_, "token captured");
  }

  herd::Task iteration(herd::User& user) override {
    herd::Request page;
    page.path = "/api/page?user=" + name_;
    page.endpoint = "page";
    page.headers = {{"Authorization", "Bearer " + token_}};
    const herd::Response response = co_await user.request(std::move(page));
    const auto csrf = user.capture(response, herd::Capture::regex(R"re(name="csrf" value="([^"]+)")re"));
    user.check(csrf == "c-" + name_, "csrf captured");
    const auto type = user.capture(response, herd::Capture::header("Content-Type"));
    user.check(type && type->starts_with("text/html"), "served as html");
    // A row per iteration from a `cycle` source: the items go round.
    user.feed("items");
    co_await user.get("/seen/" + name_ + "/" + user.variable("items.sku"), "seen");
    co_await user.sleep(5ms);
  }

 private:
  std::string name_;
  std::string token_;
};

// Requests to the target over HTTP/1.1 and to a second origin (the param
// `mirror`, declared in the class's `code: {origins: [...]}`) over the
// scenario's default HTTP version, HTTP/2 in api.yaml.
class Spread : public herd::UserClass {
 public:
  herd::Task iteration(herd::User& user) override {
    herd::Request local;
    local.endpoint = "target";
    local.http = herd::Http::kHttp1;
    co_await user.request(std::move(local));
    const std::string* mirror = user.param("mirror");
    if (mirror == nullptr) throw std::invalid_argument("params.mirror: the second origin's URL");
    herd::Request remote;
    remote.origin = *mirror;
    remote.path = "/echo";
    remote.endpoint = "mirror";
    remote.method = "POST";
    remote.body = "{\"user\":" + std::to_string(user.index()) + "}";
    const herd::Response response = co_await user.request(std::move(remote));
    user.check(response.http_version == 2, "mirror spoke HTTP/2");
    co_await user.sleep(5ms);
  }
};

// An exchange written by hand over a raw TLS connection (the param `tlsPort`
// of the target's host): what a client of a TLS-wrapped protocol herd does not
// speak looks like. Here the protocol is HTTP/1.1, so that the server's own
// log counts the exchanges.
class RawTls : public herd::UserClass {
 public:
  herd::Task onStart(herd::User& user) override { co_await connect(user); }

  herd::Task iteration(herd::User& user) override {
    const auto start = std::chrono::steady_clock::now();
    std::string error = co_await user.write("GET /raw HTTP/1.1\r\nHost: localhost\r\n\r\n");
    size_t length = 0;
    while (error.empty() && (length = responseLength(user.received())) == 0) error = co_await user.read();
    if (error.empty() && user.received().compare(0, 12, "HTTP/1.1 200") != 0) error = "unexpected response";
    user.record("raw", std::chrono::steady_clock::now() - start, error);
    user.received().erase(0, length);
    if (!error.empty()) co_await connect(user);  // a fresh connection for the next iteration
    co_await user.sleep(5ms);
  }

 private:
  static herd::Task connect(herd::User& user) {
    const std::string* port = user.param("tlsPort");
    if (port == nullptr) throw std::invalid_argument("params.tlsPort: the target host's TLS port");
    herd::ConnectOptions options;  // the target's host
    options.tls = true;
    const std::string error = co_await user.connect(static_cast<uint16_t>(std::stoi(*port)), std::move(options));
    if (!error.empty()) throw std::runtime_error("connect: " + error);
  }

  // The length of the first whole response in `data` (a Content-Length body),
  // or 0 while it is not all there.
  static size_t responseLength(std::string_view data) {
    const size_t end = data.find("\r\n\r\n");
    if (end == std::string_view::npos) return 0;
    const size_t field = data.substr(0, end).find("Content-Length: ");
    const size_t body = field == std::string_view::npos ? 0 : std::strtoul(data.data() + field + 16, nullptr, 10);
    return data.size() >= end + 4 + body ? end + 4 + body : 0;
  }
};

}  // namespace

// A chatter keeps one WebSocket from onStart to onStop: each iteration sends
// five messages, checks that each comes back as sent (the server echoes), and
// waits briefly for a message that never comes (a timeout, counted as a
// failure of its endpoint). onStop closes the socket with a close handshake.
class Chat : public herd::UserClass {
 public:
  herd::Task onStart(herd::User& user) override {
    const std::string path = "/chat?user=" + std::to_string(user.index());
    const auto opened = co_await user.wsConnect(path, "WS chat", 2s);
    if (!opened.error.empty()) throw std::runtime_error("chat did not open: " + opened.error);
  }
  herd::Task iteration(herd::User& user) override {
    for (int i = 0; i < 5; ++i) {
      const std::string hello = R"({"type": "hello", "user": )" + std::to_string(user.index()) + "}";
      co_await user.wsSend(hello, "SEND chat");
      const auto reply = co_await user.wsReceive("RECEIVE reply", 2s);
      user.check(reply.message == hello, "echoed");
    }
    co_await user.wsReceive("RECEIVE nothing", 100ms);
  }
  herd::Task onStop(herd::User& user) override { co_await user.wsClose("CLOSE chat"); }
};

// Pub/sub with delivery tracking against nchan: a learner publishes its
// progress on its own topic (a POST to nchan's publisher location, marked by
// herd and counted as published once nchan accepted it), 20 messages in all;
// a proctor follows three learners over one WebSocket (to the target, or to
// the origin in params.follow, declared in the class's `code: {origins}`)
// and hands each message it receives to herd, which counts deliveries, losses
// and duplicates per stream.
class Learner : public herd::UserClass {
 public:
  herd::Task onStart(herd::User& user) override { co_await user.sleep(300ms); }  // the proctors subscribe first
  herd::Task iteration(herd::User& user) override {
    if (sent_ == kMessages) {
      co_await user.sleep(60s);  // done; a stop ends the sleep at once
      co_return;
    }
    const std::string topic = "learner-" + std::to_string(user.classIndex());
    const std::string marker = user.newMessage();
    herd::Request publish;
    publish.method = "POST";
    publish.path = "/pub/" + topic;
    publish.endpoint = "POST publish";
    publish.body = marker + R"( {"progress": )" + std::to_string(++sent_) + "}";
    const auto response = co_await user.request(std::move(publish));
    if (response.ok()) user.published("progress", topic, marker);
    co_await user.sleep(50ms);
  }

 private:
  static constexpr int kMessages = 20;
  int sent_ = 0;
};

class Proctor : public herd::UserClass {
 public:
  herd::Task onStart(herd::User& user) override {
    std::vector<std::string> topics;
    std::string path = "/ws/";
    for (int64_t learner = 3 * user.classIndex(); learner < 3 * user.classIndex() + 3; ++learner) {
      topics.push_back("learner-" + std::to_string(learner));
      path += (topics.size() > 1 ? "," : "") + topics.back();
    }
    // A named string, not a temporary: GCC 12 destroys a temporary argument
    // of a call inside co_await twice.
    const std::string* follow = user.param("follow");
    const std::string origin = follow ? *follow : std::string();
    const auto opened = co_await user.wsConnect(path, "WS follow", 5s, origin);
    if (!opened.error.empty()) throw std::runtime_error("cannot follow: " + opened.error);
    user.subscribed("progress", topics);
  }
  herd::Task iteration(herd::User& user) override {
    const auto message = co_await user.wsReceive("RECEIVE progress", 500ms);
    if (message.error.empty()) user.delivered("progress", message.message);
  }
  herd::Task onStop(herd::User& user) override { co_await user.wsClose("CLOSE follow"); }
};

HERD_SCENARIO(herd::userClass<Member>("Member", {"GET login", "GET page", "GET seen"},
                                      {"token captured", "csrf captured", "served as html"}),
              herd::userClass<Spread>("Spread", {"GET target", "POST mirror"}, {"mirror spoke HTTP/2"}),
              herd::userClass<RawTls>("RawTls", {"raw"}),
              herd::userClass<Chat>("Chat", {"WS chat", "SEND chat", "RECEIVE reply", "RECEIVE nothing", "CLOSE chat"},
                                    {"echoed"}),
              herd::userClass<Learner>("Learner", {"POST publish"}, {}, {"progress"}),
              herd::userClass<Proctor>("Proctor", {"WS follow", "RECEIVE progress", "CLOSE follow"}, {}, {"progress"}))
