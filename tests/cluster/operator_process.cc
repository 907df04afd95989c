#include "operator_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "cluster_env.h"

namespace herd::k8s::testing {

namespace {

// The operator's coordinator serves TLS unless told otherwise, as it does in a
// cluster: one CA and certificate for 127.0.0.1, made once per test process
// and removed at exit. Agent pods (the pod runner's processes) get the CA from
// their run's token Secret and verify the address they dial.
class TestCertificates {
 public:
  TestCertificates()
      : dir_(std::filesystem::temp_directory_path() / ("herd-operator-tls-" + std::to_string(::getpid()))) {
    const std::string script = std::string(HERD_SOURCE_DIR) + "/tests/support/make_test_certs.sh";
    if (std::system((script + " '" + dir_.string() + "'").c_str()) != 0) {
      throw std::runtime_error("tests/support/make_test_certs.sh failed (is openssl installed?)");
    }
  }
  ~TestCertificates() { std::filesystem::remove_all(dir_); }
  std::vector<std::string> flags() const {
    return {"--coordinator-tls-cert",       (dir_ / "server.crt").string(), "--coordinator-tls-key",
            (dir_ / "server.key").string(), "--coordinator-tls-ca",         (dir_ / "ca.crt").string()};
  }

 private:
  std::filesystem::path dir_;
};

void addTlsFlags(std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--coordinator-insecure" || a == "--coordinator-tls-cert") return;
  static const TestCertificates certificates;
  for (auto& flag : certificates.flags()) args.push_back(std::move(flag));
}

}  // namespace

OperatorProcess::OperatorProcess(std::vector<std::string> args) {
  addTlsFlags(args);
  log_ = std::filesystem::temp_directory_path() /
         ("herd-operator-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++) + ".log");
  args.insert(args.begin(), HERD_OPERATOR_BIN);
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
}

OperatorProcess::~OperatorProcess() {
  kill();
  std::filesystem::remove(log_);
}

int OperatorProcess::stop() {
  if (pid_ <= 0) return -1;
  if (exit_code_ < 0) ::kill(pid_, SIGTERM);
  return waitExit(std::chrono::seconds(15));
}

void OperatorProcess::kill() {
  if (pid_ <= 0 || exit_code_ >= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  exit_code_ = 128 + SIGKILL;
}

int OperatorProcess::waitExit(std::chrono::seconds limit) {
  eventually(limit, [&] {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    return exit_code_ >= 0;
  });
  return exit_code_;
}

std::string OperatorProcess::log() const {
  std::ifstream f(log_);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int OperatorProcess::port(const std::string& what) {
  int port = 0;
  std::regex re(what + " listening on port ([0-9]+)");
  eventually(std::chrono::seconds(10), [&] {
    std::smatch m;
    auto text = log();
    if (std::regex_search(text, m, re)) port = std::stoi(m[1]);
    return port > 0;
  });
  return port;
}

std::string httpGet(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  timeval timeout{5, 0};  // a stopped (SIGSTOP) process must not hang the test
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  (void)::write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

}  // namespace herd::k8s::testing
