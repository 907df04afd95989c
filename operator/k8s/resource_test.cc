#include "operator/k8s/resource.h"

#include <gtest/gtest.h>

namespace herd::k8s {
namespace {

TEST(Resource, CorePaths) {
  EXPECT_EQ(collectionPath(resources::kPods, "perf"), "/api/v1/namespaces/perf/pods");
  EXPECT_EQ(collectionPath(resources::kPods, ""), "/api/v1/pods");
  EXPECT_EQ(objectPath(resources::kPods, "perf", "agent-0", "status"), "/api/v1/namespaces/perf/pods/agent-0/status");
}

TEST(Resource, GroupAndClusterScopedPaths) {
  EXPECT_EQ(objectPath(resources::kLeases, "ns", "herd"), "/apis/coordination.k8s.io/v1/namespaces/ns/leases/herd");
  // A cluster-scoped resource ignores the namespace.
  EXPECT_EQ(objectPath(resources::kNamespaces, "ignored", "perf"), "/api/v1/namespaces/perf");
}

TEST(Resource, QueryIsEncoded) {
  EXPECT_EQ(queryString({}), "");
  EXPECT_EQ(queryString({{"labelSelector", "app in (a,b)"}, {"limit", "5"}}),
            "?labelSelector=app%20in%20%28a%2Cb%29&limit=5");
  EXPECT_EQ(percentEncode("a/b=c&d"), "a%2Fb%3Dc%26d");
}

TEST(Resource, Keys) {
  Json obj{{"metadata", {{"name", "x"}, {"namespace", "ns"}, {"resourceVersion", "7"}}}};
  EXPECT_EQ(keyOf(obj), "ns/x");
  EXPECT_EQ(resourceVersionOf(obj), "7");
  EXPECT_EQ(keyOf(Json{{"metadata", {{"name", "node"}}}}), "node");
  EXPECT_EQ(splitKey("ns/x"), (std::pair<std::string, std::string>{"ns", "x"}));
  EXPECT_EQ(splitKey("node"), (std::pair<std::string, std::string>{"", "node"}));
  // Malformed objects give empty strings, not exceptions.
  EXPECT_EQ(nameOf(Json::array()), "");
  EXPECT_EQ(nameOf(Json{{"metadata", {{"name", 5}}}}), "");
}

}  // namespace
}  // namespace herd::k8s
