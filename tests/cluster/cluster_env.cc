#include "cluster_env.h"

#include <sys/wait.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

namespace herd::k8s::testing {

const Resource kWidgets{"test.herd.dev", "v1", "widgets", "Widget", true};

std::string kubeconfigPath() {
  const char* p = std::getenv("HERD_KUBECONFIG");
  return p ? p : "";
}

Config clusterConfig() {
  auto c = loadKubeconfig(kubeconfigPath());
  if (!c.ok()) throw std::runtime_error(c.error().describe());
  return *c;
}

std::unique_ptr<Client> makeClient(const Config& config) {
  auto c = Client::fromConfig(config);
  if (!c.ok()) throw std::runtime_error(c.error().describe());
  return std::move(*c);
}

std::unique_ptr<Client> makeClient() { return makeClient(clusterConfig()); }

int clusterCtl(const std::string& command) {
  // The cluster directory is where up wrote the kubeconfig.
  auto dir = std::filesystem::path(kubeconfigPath()).parent_path().string();
  std::string cmd = std::string(HERD_CLUSTER_SCRIPTS) + "/ctl '" + dir + "' " + command;
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

bool eventually(std::chrono::milliseconds limit, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

void ensureWidgetCrd(Client& client) {
  auto text = readFile(std::string(HERD_CLUSTER_SCRIPTS) + "/testdata/widget-crd.json");
  ASSERT_TRUE(text.ok()) << text.error().describe();
  auto crd = Json::parse(*text);
  auto applied = client.apply(resources::kCustomResourceDefinitions, crd);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  // A new CRD serves only once Established; listing proves it end to end.
  ASSERT_TRUE(eventually(std::chrono::seconds(30), [&] { return client.list(kWidgets, "default").ok(); }))
      << "CRD widgets.test.herd.dev never started serving";
}

TestNamespace::TestNamespace(Client& client) : client_(client) {
  std::random_device rd;
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string base = info ? std::string(info->name()) : "test";
  for (char& c : base) c = std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '-';
  name_ = "t-" + base.substr(0, 40) + "-" + std::to_string(rd() % 100000);
  Json ns{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name_}}}};
  auto created = client_.create(resources::kNamespaces, "", ns);
  if (!created.ok()) throw std::runtime_error(created.error().describe());
  // The controller manager puts kube-root-ca.crt into every new namespace a
  // moment later; waiting for it keeps that ConfigMap from turning up as an
  // unexpected add in the middle of a test that watches ConfigMaps.
  if (!eventually(std::chrono::seconds(30),
                  [&] { return client_.get(resources::kConfigMaps, name_, "kube-root-ca.crt").ok(); }))
    throw std::runtime_error("kube-root-ca.crt never appeared in namespace " + name_);
}

TestNamespace::~TestNamespace() {
  // The namespace controller (kube-controller-manager) deletes the contents.
  (void)client_.remove(resources::kNamespaces, "", name_);
}

}  // namespace herd::k8s::testing
