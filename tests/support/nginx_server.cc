#include "tests/support/nginx_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/support/net.h"
#include "tests/support/process.h"

namespace herd::test_support {
namespace {

namespace fs = std::filesystem;

constexpr size_t kBigFileBytes = 1 << 20;

Result<std::string> readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read", path.string()};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Status writeFile(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) return Error{"cannot write", path.string()};
  return Ok{};
}

Result<fs::path> makeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/herd-nginx-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return Error{std::strerror(errno), pattern};
  // When the test runs as root, nginx's worker runs as nobody and must reach root/.
  chmod(pattern.c_str(), 0755);
  return fs::path(pattern);
}

// The files the template's header says @ROOT@ must hold (same bytes as
// nginx_server.py writes).
Status writeRootFiles(const fs::path& root) {
  std::error_code error;
  fs::create_directories(root, error);
  if (error) return Error{error.message(), root.string()};
  std::string big(kBigFileBytes, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i % 251);
  auto status = writeFile(root / "index.html", "ok\n");
  if (!status.ok()) return status;
  return writeFile(root / "big.bin", big);
}

Status makeCertificate(const fs::path& dir) {
  const auto result = runCommand(
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
       "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost", "-keyout",
       (dir / "server.key").string(), "-out", (dir / "server.crt").string()},
      dir / "openssl.log");
  if (!result.ok()) return result.error();
  if (*result != 0) return Error{"openssl req failed; see openssl.log", dir.string()};
  return Ok{};
}

Result<std::string> render(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [name, value] : values) {
    const std::string placeholder = "@" + name + "@";
    for (size_t at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at)) {
      text.replace(at, placeholder.size(), value);
      at += value.size();
    }
  }
  std::smatch left;
  if (std::regex_search(text, left, std::regex("@[A-Z_]+@"))) {
    return Error{"unrendered placeholder " + left.str(), "nginx.conf.tmpl"};
  }
  return text;
}

std::string tail(const fs::path& path) {
  auto text = readFile(path);
  if (!text.ok()) return "";
  const std::string& all = *text;
  return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

}  // namespace

Result<std::unique_ptr<NginxServer>> NginxServer::start(const Options& options) {
  std::unique_ptr<NginxServer> server(new NginxServer());  // private constructor
  auto dir = makeTempDir();
  if (!dir.ok()) return dir.error();
  server->dir_ = *dir;
  if (auto status = writeRootFiles(server->dir_ / "root"); !status.ok()) return status.error();
  if (auto status = makeCertificate(server->dir_); !status.ok()) return status.error();
  auto launched = server->launch(options);
  if (!launched.ok()) return launched.error();
  return server;
}

// Renders the config with fresh ports and starts nginx, retrying when another
// process grabbed a port between our probe and nginx's bind().
Status NginxServer::launch(const Options& options) {
  auto tmpl = readFile(options.template_path);
  if (!tmpl.ok()) return tmpl.error();
  std::string last_error;
  for (int attempt = 0; attempt < options.attempts; ++attempt) {
    port_ = freeLoopbackPort();
    do {
      tls_port_ = freeLoopbackPort();
    } while (tls_port_ == port_);
    auto config = render(*tmpl, {{"PORT", std::to_string(port_)},
                                 {"TLS_PORT", std::to_string(tls_port_)},
                                 {"DIR", dir_.string()},
                                 {"ROOT", (dir_ / "root").string()},
                                 {"LOG", accessLogPath().string()},
                                 {"CERT", certFile().string()},
                                 {"KEY", (dir_ / "server.key").string()},
                                 {"WORKER_CPU", ""}});
    if (!config.ok()) return config.error();
    if (auto status = writeFile(dir_ / "nginx.conf", *config); !status.ok()) return status;

    const std::string prefix = dir_.string();
    auto pid = spawnChild({options.nginx.string(), "-p", prefix, "-c", prefix + "/nginx.conf", "-g",
                           "daemon off; pid " + prefix + "/nginx.pid;"},
                          dir_ / "nginx.stderr");
    if (!pid.ok()) return pid.error();
    pid_ = *pid;
    const auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (childExited(pid_)) break;
      if (acceptsConnections(port_) && acceptsConnections(tls_port_)) return Ok{};
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    last_error = tail(dir_ / "error.log") + tail(dir_ / "nginx.stderr");
    stopChild(pid_);
    pid_ = -1;
  }
  return Error{"nginx did not start: " + last_error, dir_.string()};
}

NginxServer::~NginxServer() { stop(); }

void NginxServer::stop() {
  if (pid_ > 0) stopChild(pid_);
  pid_ = -1;
  if (!dir_.empty() && std::getenv("HERD_KEEP_NGINX_DIR") == nullptr) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
}

std::string NginxServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

std::string NginxServer::tlsUrl(std::string_view path) const {
  return "https://127.0.0.1:" + std::to_string(tls_port_) + std::string(path);
}

std::vector<AccessLogEntry> NginxServer::accessLog() const {
  std::vector<AccessLogEntry> entries;
  std::ifstream in(accessLogPath());
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    AccessLogEntry entry;
    if (fields >> entry.method >> entry.uri >> entry.status >> entry.body_bytes) entries.push_back(entry);
  }
  return entries;
}

int64_t NginxServer::requestCountFromAccessLog() const { return static_cast<int64_t>(accessLog().size()); }

int64_t NginxServer::requestCountFromAccessLog(std::string_view uri) const {
  int64_t count = 0;
  for (const auto& entry : accessLog()) count += entry.uri == uri ? 1 : 0;
  return count;
}

std::map<std::string, int64_t> NginxServer::requestCountsByUri() const {
  std::map<std::string, int64_t> counts;
  for (const auto& entry : accessLog()) ++counts[entry.uri];
  return counts;
}

int64_t NginxServer::waitForAccessLogCount(int64_t expected, std::string_view uri,
                                           std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const int64_t count = uri.empty() ? requestCountFromAccessLog() : requestCountFromAccessLog(uri);
    if (count >= expected || std::chrono::steady_clock::now() >= deadline) return count;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Result<StubStatus> NginxServer::stubStatus() const {
  auto response = httpGet(port_, "/status");
  if (!response.ok()) return response.error();
  // Active connections: 1
  // server accepts handled requests
  //  4 4 3
  // Reading: 0 Writing: 1 Waiting: 0
  static const std::regex pattern(
      R"(Active connections:\s*(\d+)\s*server accepts handled requests\s*(\d+)\s+(\d+)\s+(\d+)\s*)"
      R"(Reading:\s*(\d+)\s*Writing:\s*(\d+)\s*Waiting:\s*(\d+))");
  std::smatch match;
  if (!std::regex_search(*response, match, pattern)) {
    return Error{"unexpected stub_status response: " + *response, url("/status")};
  }
  StubStatus status;
  int64_t* fields[] = {&status.active,  &status.accepts, &status.handled, &status.requests,
                       &status.reading, &status.writing, &status.waiting};
  for (size_t i = 0; i < 7; ++i) *fields[i] = std::stoll(match[i + 1].str());
  return status;
}

}  // namespace herd::test_support
