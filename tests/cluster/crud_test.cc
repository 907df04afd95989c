// Create / get / patch / server-side apply / delete round trips on ConfigMaps,
// Pods and a custom resource, against the fixture's real apiserver.
#include "cluster_env.h"

namespace herd::k8s::testing {
namespace {

using json = Json;

json configMap(const std::string& ns, const std::string& name, json data) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"data", std::move(data)}};
}

class Crud : public ::testing::Test {
 protected:
  void SetUp() override {
    HERD_REQUIRE_CLUSTER();
    client_ = makeClient();
    ns_ = std::make_unique<TestNamespace>(*client_);
  }
  void TearDown() override { ns_.reset(); }
  std::unique_ptr<Client> client_;
  std::unique_ptr<TestNamespace> ns_;
};

TEST_F(Crud, ConfigMapRoundTrip) {
  const auto& ns = ns_->name();
  const auto& cms = resources::kConfigMaps;
  auto created = client_->create(cms, ns, configMap(ns, "settings", {{"a", "1"}}));
  ASSERT_TRUE(created.ok()) << created.error().describe();
  EXPECT_FALSE(resourceVersionOf(*created).empty());

  auto again = client_->create(cms, ns, configMap(ns, "settings", {{"a", "1"}}));
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.error().isAlreadyExists()) << again.error().describe();

  auto patched = client_->patch(cms, ns, "settings", {{"data", {{"b", "2"}}}});
  ASSERT_TRUE(patched.ok()) << patched.error().describe();
  EXPECT_EQ((*patched)["data"], (json{{"a", "1"}, {"b", "2"}}));

  // A PUT with the resourceVersion from before the patch lost the race.
  json stale = *created;
  stale["data"]["c"] = "3";
  auto conflict = client_->replace(cms, stale);
  ASSERT_FALSE(conflict.ok());
  EXPECT_TRUE(conflict.error().isConflict()) << conflict.error().describe();

  auto got = client_->get(cms, ns, "settings");
  ASSERT_TRUE(got.ok()) << got.error().describe();
  EXPECT_EQ((*got)["data"]["b"], "2");

  ASSERT_TRUE(client_->remove(cms, ns, "settings").ok());
  auto gone = client_->get(cms, ns, "settings");
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(gone.error().isNotFound());
  EXPECT_NE(gone.error().describe().find("/namespaces/" + ns + "/configmaps/settings"), std::string::npos);
}

TEST_F(Crud, ServerSideApplyOwnsFieldsAsHerdOperator) {
  const auto& ns = ns_->name();
  const auto& cms = resources::kConfigMaps;
  auto first = client_->apply(cms, configMap(ns, "applied", {{"a", "1"}, {"b", "2"}}));
  ASSERT_TRUE(first.ok()) << first.error().describe();
  // Applying a smaller intent removes the field this manager no longer sets.
  auto second = client_->apply(cms, configMap(ns, "applied", {{"a", "10"}}));
  ASSERT_TRUE(second.ok()) << second.error().describe();
  EXPECT_EQ((*second)["data"], (json{{"a", "10"}}));
  bool ours = false;
  for (const auto& mf : (*second)["metadata"]["managedFields"]) {
    ours |= mf.value("manager", "") == "herd-operator" && mf.value("operation", "") == "Apply";
  }
  EXPECT_TRUE(ours) << (*second)["metadata"]["managedFields"].dump();
  // Another manager's conflicting apply without force is refused with 409.
  auto rival = client_->apply(cms, configMap(ns, "applied", {{"a", "rival"}}), /*force=*/false, {}, "rival");
  ASSERT_FALSE(rival.ok());
  EXPECT_EQ(rival.error().status, 409);
}

TEST_F(Crud, ListPaginates) {
  const auto& ns = ns_->name();
  for (int i = 0; i < 25; ++i) {
    auto cm = configMap(ns, "page-" + std::to_string(i), {{"i", std::to_string(i)}});
    cm["metadata"]["labels"] = {{"herd.dev/test", "pages"}};
    ASSERT_TRUE(client_->create(resources::kConfigMaps, ns, cm).ok());
  }
  ListOptions opts{"herd.dev/test=pages", "", 10, "", ""};
  auto page = client_->list(resources::kConfigMaps, ns, opts);
  ASSERT_TRUE(page.ok()) << page.error().describe();
  EXPECT_EQ((*page)["items"].size(), 10u);
  EXPECT_FALSE((*page)["metadata"].value("continue", "").empty());
  auto all = client_->listAll(resources::kConfigMaps, ns, opts);
  ASSERT_TRUE(all.ok()) << all.error().describe();
  EXPECT_EQ((*all)["items"].size(), 25u);
}

TEST_F(Crud, PodRoundTrip) {
  const auto& ns = ns_->name();
  json pod{{"apiVersion", "v1"},
           {"kind", "Pod"},
           {"metadata", {{"name", "agent-0"}, {"namespace", ns}}},
           {"spec", {{"containers", json::array({{{"name", "agent"}, {"image", "herd:test"}}})}}}};
  auto created = client_->create(resources::kPods, ns, pod);
  ASSERT_TRUE(created.ok()) << created.error().describe();
  // Without a scheduler the pod stays Pending, which is what herd sees here.
  EXPECT_EQ((*created)["status"]["phase"], "Pending");
  pod["metadata"]["labels"] = {{"herd.dev/role", "agent"}};
  auto applied = client_->apply(resources::kPods, pod);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  EXPECT_EQ((*applied)["metadata"]["labels"]["herd.dev/role"], "agent");
  auto patched = client_->patch(resources::kPods, ns, "agent-0",
                                {{"metadata", {{"annotations", {{"herd.dev/run", "r1"}}}}}});
  ASSERT_TRUE(patched.ok()) << patched.error().describe();
  DeleteOptions now;
  now.grace_period_seconds = 0;
  ASSERT_TRUE(client_->remove(resources::kPods, ns, "agent-0", now).ok());
  EXPECT_TRUE(eventually(std::chrono::seconds(10), [&] {
    auto g = client_->get(resources::kPods, ns, "agent-0");
    return !g.ok() && g.error().isNotFound();
  }));
}

TEST_F(Crud, CustomResourceWithStatusSubresource) {
  ensureWidgetCrd(*client_);
  const auto& ns = ns_->name();
  json w{{"apiVersion", "test.herd.dev/v1"},
         {"kind", "Widget"},
         {"metadata", {{"name", "w1"}, {"namespace", ns}}},
         {"spec", {{"size", 3}}}};
  auto applied = client_->apply(kWidgets, w);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  EXPECT_EQ((*applied)["spec"]["size"], 3);

  // Schema validation by the apiserver comes back as 422 Invalid.
  json bad = w;
  bad["spec"]["size"] = -1;
  auto invalid = client_->apply(kWidgets, bad);
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().status, 422);
  EXPECT_EQ(invalid.error().reason, "Invalid");

  auto status = updateStatus(*client_, kWidgets, ns, "w1", [](json& obj) {
    obj["status"]["phase"] = "Running";
    return true;
  });
  ASSERT_TRUE(status.ok()) << status.error().describe();
  // The status subresource ignores spec changes and the main resource ignores status.
  auto got = client_->get(kWidgets, ns, "w1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["status"]["phase"], "Running");
  auto patched = client_->patch(kWidgets, ns, "w1", {{"spec", {{"color", "red"}}}});
  ASSERT_TRUE(patched.ok()) << patched.error().describe();
  EXPECT_EQ((*patched)["status"]["phase"], "Running");
  EXPECT_EQ((*patched)["spec"]["color"], "red");

  auto status_applied = client_->apply(kWidgets,
                                       {{"apiVersion", "test.herd.dev/v1"},
                                        {"kind", "Widget"},
                                        {"metadata", {{"name", "w1"}, {"namespace", ns}}},
                                        {"status", {{"phase", "Done"}}}},
                                       true, "status");
  ASSERT_TRUE(status_applied.ok()) << status_applied.error().describe();
  EXPECT_EQ((*status_applied)["status"]["phase"], "Done");
  ASSERT_TRUE(client_->remove(kWidgets, ns, "w1").ok());
}

TEST_F(Crud, OwnerReferencesAreGarbageCollected) {
  const auto& ns = ns_->name();
  auto owner = client_->create(resources::kConfigMaps, ns, configMap(ns, "owner", json::object()));
  ASSERT_TRUE(owner.ok());
  auto child = configMap(ns, "child", json::object());
  child["metadata"]["ownerReferences"] = json::array(
      {{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "owner"}, {"uid", (*owner)["metadata"]["uid"]}}});
  ASSERT_TRUE(client_->create(resources::kConfigMaps, ns, child).ok());
  ASSERT_TRUE(client_->remove(resources::kConfigMaps, ns, "owner").ok());
  // kube-controller-manager's garbage collector removes the child.
  EXPECT_TRUE(eventually(std::chrono::seconds(30), [&] {
    auto g = client_->get(resources::kConfigMaps, ns, "child");
    return !g.ok() && g.error().isNotFound();
  }));
}

}  // namespace
}  // namespace herd::k8s::testing
