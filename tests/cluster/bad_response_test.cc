// Bad responses produce errors with context and never a crash: a wrong CA and
// missing credentials against the real apiserver, and non-JSON bodies, 5xx,
// truncated and garbage watch streams, resets and silence from a misbehaving
// HTTP server on loopback (the apiserver cannot be made to send those).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>

#include "cluster_env.h"
#include "common/k8s/informer.h"

namespace herd::k8s::testing {
namespace {

using namespace std::chrono_literals;

// A loopback HTTP/1.1 server that answers every request with `reply(path)`:
// raw bytes written as they are, then the connection is closed. It stands in
// for a broken proxy or server between herd and the apiserver.
class BadServer {
 public:
  using Reply = std::function<std::string(const std::string& path)>;
  explicit BadServer(Reply reply) : reply_(std::move(reply)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;  // any free port
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd_, 16) != 0) {
      throw std::runtime_error("bind/listen failed");
    }
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~BadServer() {
    stopping_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
    for (auto& t : conns_) t.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }

 private:
  void serve() {
    while (!stopping_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      conns_.emplace_back([this, c] { handle(c); });
    }
  }
  void handle(int c) {
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) {
        close(c);
        return;
      }
      req.append(buf, static_cast<size_t>(n));
    }
    ++requests_;
    auto sp1 = req.find(' '), sp2 = req.find(' ', sp1 + 1);
    std::string out = reply_(req.substr(sp1 + 1, sp2 - sp1 - 1));
    if (out == "SILENCE") {  // hold the connection open, say nothing
      while (!stopping_ && read(c, buf, sizeof buf) > 0) {
      }
    } else {
      (void)!write(c, out.data(), out.size());
    }
    close(c);
  }

  Reply reply_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
  std::vector<std::thread> conns_;
};

std::string response(const std::string& status, const std::string& body) {
  return "HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

std::string chunked(const std::vector<std::string>& chunks, bool finish) {
  std::string out = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  char size[16];
  for (const auto& c : chunks) {
    std::snprintf(size, sizeof size, "%zx\r\n", c.size());
    out += size + c + "\r\n";
  }
  return finish ? out + "0\r\n\r\n" : out;
}

std::unique_ptr<Client> clientFor(const std::string& url, std::chrono::seconds timeout = 30s) {
  Config c;
  c.server = url;
  c.request_timeout = timeout;
  return makeClient(c);
}

TEST(BadResponses, NonJsonAnd5xxBodies) {
  BadServer server([](const std::string& path) {
    if (path.find("/html") != std::string::npos) return response("200 OK", "<html>login</html>");
    if (path.find("/array") != std::string::npos) return response("200 OK", "[1,2,3]");
    if (path.find("/short") != std::string::npos) return response("200 OK", "").substr(0, 20);  // cut headers
    return response("503 Service Unavailable", "upstream connect error");
  });
  auto client = clientFor(server.url());
  auto html = client->get(resources::kConfigMaps, "ns", "html");
  ASSERT_FALSE(html.ok());
  EXPECT_EQ(html.error().status, 0);
  EXPECT_NE(html.error().describe().find("not a JSON object: <html>login</html>"), std::string::npos)
      << html.error().describe();
  EXPECT_NE(html.error().where.find(server.url() + "/api/v1/namespaces/ns/configmaps/html"), std::string::npos);
  EXPECT_FALSE(client->get(resources::kConfigMaps, "ns", "array").ok());
  auto unavailable = client->get(resources::kConfigMaps, "ns", "x");
  ASSERT_FALSE(unavailable.ok());
  EXPECT_EQ(unavailable.error().status, 503);
  EXPECT_TRUE(unavailable.error().isTransient());
  auto cut = client->get(resources::kConfigMaps, "ns", "short");
  ASSERT_FALSE(cut.ok());
  EXPECT_FALSE(cut.error().message.empty());
}

TEST(BadResponses, BrokenWatchStreams) {
  const std::string ev = R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"2"}}})";
  BadServer server([&](const std::string& path) {
    if (path.find("/garbage/") != std::string::npos) return chunked({ev + "\n", "\x7f\x45LF\x01garbage\n"}, true);
    if (path.find("/truncated/") != std::string::npos) return chunked({ev + "\n", ev.substr(0, 30)}, true);
    if (path.find("/reset/") != std::string::npos) return chunked({ev + "\n"}, false);  // no final chunk
    if (path.find("/badchunk/") != std::string::npos) {
      return std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n");
    }
    return response("410 Gone", R"({"kind":"Status","code":410,"reason":"Expired","message":"too old"})");
  });
  auto client = clientFor(server.url());
  auto run = [&](const std::string& ns, int& events) {
    return client->watch(resources::kConfigMaps, ns, {}, [&](WatchEvent&&) { ++events; });
  };
  int events = 0;
  auto garbage = run("garbage", events);
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error().message.find("not JSON"), std::string::npos) << garbage.error().describe();
  EXPECT_EQ(events, 1) << "the good event before the garbage is delivered";
  auto truncated = run("truncated", events);
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.error().message.find("ended inside an event"), std::string::npos) << truncated.error().describe();
  auto reset = run("reset", events);
  EXPECT_FALSE(reset.ok()) << "a connection closed without the final chunk is not a clean end";
  EXPECT_FALSE(run("badchunk", events).ok());
  auto gone = run("old", events);
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(gone.error().isGone());
  EXPECT_NE(gone.error().where.find("WATCH " + server.url()), std::string::npos);
}

TEST(BadResponses, SilentServerTimesOutAndRefusedConnectionFails) {
  BadServer server([](const std::string&) { return std::string("SILENCE"); });
  auto client = clientFor(server.url(), 1s);
  auto t0 = std::chrono::steady_clock::now();
  auto silent = client->get(resources::kPods, "ns", "p");
  ASSERT_FALSE(silent.ok());
  EXPECT_TRUE(silent.error().isTransient());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);

  int port;
  {
    BadServer gone([](const std::string&) { return std::string(); });
    port = std::stoi(gone.url().substr(gone.url().rfind(':') + 1));
  }
  auto refused = clientFor("http://127.0.0.1:" + std::to_string(port))->get(resources::kPods, "ns", "p");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().status, 0);
}

TEST(BadResponses, InformerSurvivesGarbageAndStopsPromptly) {
  BadServer server([](const std::string& path) {
    if (path.find("watch=true") != std::string::npos) return chunked({"{not json\n"}, true);
    return response("200 OK", R"({"metadata":{"resourceVersion":"5"},"items":[{"metadata":{"name":"a"}}, 7]})");
  });
  auto client = clientFor(server.url());
  InformerOptions opts;
  opts.ns = "ns";
  opts.error_backoff = {10ms, 50ms};
  Informer informer(*client, resources::kConfigMaps, opts);
  informer.start();
  ASSERT_TRUE(informer.waitForSync(5s));
  // The malformed item (7) is skipped; the good one is cached under its key.
  EXPECT_EQ(informer.list().size(), 1u);
  EXPECT_TRUE(informer.get("a").has_value());
  EXPECT_TRUE(eventually(5s, [&] { return informer.stats().errors >= 3; }));
  auto t0 = std::chrono::steady_clock::now();
  informer.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(BadResponses, WrongCaAndMissingCredentials) {
  HERD_REQUIRE_CLUSTER();
  auto dir = std::filesystem::temp_directory_path() / ("herd-other-ca-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other-ca -keyout '" +
                    (dir / "ca.key").string() + "' -out '" + (dir / "ca.crt").string() + "' 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  Config wrong_ca = clusterConfig();
  wrong_ca.ca_pem = *readFile((dir / "ca.crt").string());
  std::filesystem::remove_all(dir);
  auto tls = makeClient(wrong_ca)->get(resources::kNamespaces, "", "default");
  ASSERT_FALSE(tls.ok());
  EXPECT_EQ(tls.error().status, 0);
  EXPECT_NE(tls.error().where.find(wrong_ca.server), std::string::npos);
  std::cout << "wrong CA: " << tls.error().describe() << "\n";

  Config garbage_pem = clusterConfig();
  garbage_pem.client_key_pem = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
  auto refused = Client::fromConfig(garbage_pem);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("TLS material"), std::string::npos);

  Config anonymous = clusterConfig();
  anonymous.client_cert_pem.clear();
  anonymous.client_key_pem.clear();
  auto forbidden = makeClient(anonymous)->get(resources::kConfigMaps, "default", "x");
  ASSERT_FALSE(forbidden.ok());
  EXPECT_EQ(forbidden.error().status, 403);
  EXPECT_NE(forbidden.error().message.find("system:anonymous"), std::string::npos) << forbidden.error().describe();
}

}  // namespace
}  // namespace herd::k8s::testing
