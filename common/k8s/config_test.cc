#include "common/k8s/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace herd::k8s {
namespace {

namespace fs = std::filesystem;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("herd-k8s-config-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  fs::path dir_;
};

// "-----BEGIN X-----" base64-encoded is LS0tLS1CRUdJTiBYLS0tLS0=
TEST_F(ConfigTest, EmbeddedDataAndCurrentContext) {
  auto path = write("kc", R"(apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443/", certificate-authority-data: LS0tLS1CRUdJTiBYLS0tLS0=}
users:
- name: u
  user: {client-certificate-data: LS0tLS1CRUdJTiBYLS0tLS0=, client-key-data: LS0tLS1CRUdJTiBYLS0tLS0=}
contexts:
- name: ctx
  context: {cluster: c, user: u, namespace: perf}
current-context: ctx
)");
  auto c = loadKubeconfig(path);
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->server, "https://127.0.0.1:6443");  // trailing slash dropped
  EXPECT_EQ(c->ca_pem, "-----BEGIN X-----");
  EXPECT_EQ(c->client_key_pem, "-----BEGIN X-----");
  EXPECT_EQ(c->default_namespace, "perf");
  EXPECT_FALSE(c->insecure_skip_verify);
}

TEST_F(ConfigTest, FilesRelativeToKubeconfigAndTokens) {
  write("ca.crt", "CA");
  auto path = write("kc", R"(clusters:
- {name: c, cluster: {server: "https://h:1", certificate-authority: ca.crt, insecure-skip-tls-verify: true}}
users:
- {name: u, user: {token: abc}}
- {name: f, user: {tokenFile: tok}}
contexts:
- {name: one, context: {cluster: c, user: u}}
- {name: two, context: {cluster: c, user: f}}
current-context: one
)");
  auto c = loadKubeconfig(path);
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->ca_pem, "CA");
  EXPECT_EQ(c->token, "abc");
  EXPECT_TRUE(c->insecure_skip_verify);
  auto two = loadKubeconfig(path, "two");
  ASSERT_TRUE(two.ok()) << two.error().describe();
  EXPECT_EQ(two->token_file, (dir_ / "tok").string());
}

TEST_F(ConfigTest, ErrorsNameThePlace) {
  EXPECT_NE(loadKubeconfig((dir_ / "missing").string()).error().where.find("missing"), std::string::npos);
  auto bad = write("bad", "clusters: [\n");
  EXPECT_NE(loadKubeconfig(bad).error().message.find("YAML"), std::string::npos);
  auto exec = write("exec", R"(clusters: [{name: c, cluster: {server: "https://h"}}]
users: [{name: u, user: {exec: {command: gcloud}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
)");
  auto e = loadKubeconfig(exec);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("exec"), std::string::npos);
  EXPECT_NE(e.error().where.find("user u"), std::string::npos);
  EXPECT_NE(loadKubeconfig(exec, "nope").error().message.find("no context named 'nope'"), std::string::npos);
}

TEST_F(ConfigTest, InCluster) {
  write("ca.crt", "CA");
  write("token", "tok\n");
  write("namespace", "perf");
  ::setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto c = inClusterConfig(dir_.string());
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->server, "https://10.0.0.1:443");
  EXPECT_EQ(c->ca_pem, "CA");
  EXPECT_EQ(c->token_file, (dir_ / "token").string());
  EXPECT_EQ(c->default_namespace, "perf");
  EXPECT_FALSE(inClusterConfig(dir_.string()).ok());  // env unset again
}

}  // namespace
}  // namespace herd::k8s
