#include "operator/controller/builders.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "common/report/compress.h"

namespace herd::controller {
namespace {

json loadtest() {
  return {{"apiVersion", "herd.dev/v1alpha1"},
          {"kind", "LoadTest"},
          {"metadata", {{"name", "shop"}, {"namespace", "perf"}, {"uid", "u-1"}, {"generation", 3}}},
          {"spec", {{"scenario", {{"inline", "x"}}}}}};
}

LoadTestSpec specWithTemplate() {
  LoadTestSpec spec;
  spec.agent_template = {
      {"image", "registry.local/herd:1.2"},
      {"resources", {{"limits", {{"cpu", "2"}}}}},
      {"nodeSelector", {{"pool", "load"}}},
      {"tolerations", json::array({{{"key", "load"}, {"operator", "Exists"}}})},
      {"env", json::array({{{"name", "A"}, {"value", "1"}}, {{"name", "HERD_RUN_ID"}, {"value", "spoof"}}})},
      {"labels", {{"team", "perf"}, {"herd.dev/run", "spoof"}}},
      {"annotations", {{"note", "n"}}},
      {"serviceAccountName", "agents"}};
  return spec;
}

TEST(AgentPod, CarriesTemplateUnderHerdsLabelsAndOwner) {
  AgentSettings settings;
  settings.coordinator = "herd-coordinator.herd.svc:7070";
  auto pod = buildAgentPod(loadtest(), specWithTemplate(), "shop-00abcd", 2, settings);
  const auto& meta = pod["metadata"];
  EXPECT_EQ(meta["name"], "shop-00abcd-agent-2");
  EXPECT_EQ(meta["namespace"], "perf");
  EXPECT_EQ(meta["labels"]["herd.dev/run"], "shop-00abcd");  // the template cannot take the selector over
  EXPECT_EQ(meta["labels"]["team"], "perf");
  EXPECT_EQ(meta["labels"]["herd.dev/agent-index"], "2");
  EXPECT_EQ(meta["labels"]["app.kubernetes.io/managed-by"], "herd-operator");
  EXPECT_EQ(meta["annotations"]["note"], "n");
  ASSERT_EQ(meta["ownerReferences"].size(), 1u);
  EXPECT_EQ(meta["ownerReferences"][0]["uid"], "u-1");
  EXPECT_EQ(meta["ownerReferences"][0]["controller"], true);
  const auto& spec = pod["spec"];
  EXPECT_EQ(spec["restartPolicy"], "Never");
  EXPECT_EQ(spec["nodeSelector"]["pool"], "load");
  EXPECT_EQ(spec["tolerations"][0]["key"], "load");
  EXPECT_EQ(spec["serviceAccountName"], "agents");
  const auto& c = spec["containers"][0];
  EXPECT_EQ(c["image"], "registry.local/herd:1.2");
  EXPECT_EQ(c["resources"]["limits"]["cpu"], "2");
  EXPECT_EQ(c["command"], json({"herd", "agent"}));
  EXPECT_EQ(c["args"],
            json({"--coordinator", "herd-coordinator.herd.svc:7070", "--run-id", "shop-00abcd", "--token-file",
                  "/var/run/herd/token/token", "--agent-id", "$(HERD_POD_NAME)/$(HERD_POD_UID)"}));
  // herd's HERD_RUN_ID comes after the template's, so it wins.
  std::string last_run_id;
  for (const auto& e : c["env"])
    if (e["name"] == "HERD_RUN_ID") last_run_id = e["value"];
  EXPECT_EQ(last_run_id, "shop-00abcd");
  EXPECT_EQ(spec["volumes"][0]["secret"]["secretName"], "shop-00abcd-token");
}

// With TLS the CA bundle rides in the run's token Secret (a pod mounts Secrets
// of its own namespace only) and the agent trusts it for the coordinator.
TEST(AgentPod, TrustsTheCoordinatorCaFromTheTokenSecret) {
  AgentSettings settings;
  settings.coordinator = "herd-coordinator.herd.svc:7070";
  settings.coordinator_ca = "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n";
  auto pod = buildAgentPod(loadtest(), LoadTestSpec{}, "shop-1", 0, settings);
  const auto& args = pod["spec"]["containers"][0]["args"];
  auto at = std::find(args.begin(), args.end(), json("--tls-ca"));
  ASSERT_NE(at, args.end()) << args;
  EXPECT_EQ(*(at + 1), "/var/run/herd/token/ca.crt");
  EXPECT_EQ(std::find(args.begin(), args.end(), json("--tls-server-name")), args.end());  // the Service's name
  settings.coordinator_server_name = "coordinator.example";
  auto named = buildAgentPod(loadtest(), LoadTestSpec{}, "shop-1", 0, settings)["spec"]["containers"][0]["args"];
  auto name_at = std::find(named.begin(), named.end(), json("--tls-server-name"));
  ASSERT_NE(name_at, named.end()) << named;
  EXPECT_EQ(*(name_at + 1), "coordinator.example");

  auto secret = buildTokenSecret(loadtest(), "shop-1", "t0k", settings.coordinator_ca);
  EXPECT_EQ(secret["stringData"]["token"], "t0k");
  EXPECT_EQ(secret["stringData"]["ca.crt"], settings.coordinator_ca);
  EXPECT_FALSE(buildTokenSecret(loadtest(), "shop-1", "t0k")["stringData"].contains("ca.crt"));
  // Without a CA the agent dials plaintext.
  auto plain = buildAgentPod(loadtest(), LoadTestSpec{}, "shop-1", 0, AgentSettings{});
  const auto& plain_args = plain["spec"]["containers"][0]["args"];
  EXPECT_EQ(std::find(plain_args.begin(), plain_args.end(), json("--tls-ca")), plain_args.end());
}

// Without a template value: memory from the users per agent (64 MiB + 16 KiB a
// user, the limit twice that plus 64 MiB of kept reports), 250m CPU requested
// and no CPU limit, and a grace period of the stop grace plus 30 s.
TEST(AgentPod, DefaultResourcesFollowTheUsersPerAgent) {
  LoadTestSpec spec;
  auto small = buildAgentPod(loadtest(), spec, "shop-1", 0, {}, AgentSizing{10, std::chrono::seconds(30)});
  EXPECT_EQ(small["spec"]["containers"][0]["resources"],
            json({{"requests", {{"cpu", "250m"}, {"memory", "65Mi"}}}, {"limits", {{"memory", "194Mi"}}}}));
  EXPECT_EQ(small["spec"]["terminationGracePeriodSeconds"], 60);

  auto big = buildAgentPod(loadtest(), spec, "shop-1", 0, {}, AgentSizing{10000, std::chrono::milliseconds(2500)});
  const auto& r = big["spec"]["containers"][0]["resources"];
  EXPECT_EQ(r["requests"]["memory"], "221Mi");  // 64 MiB + 10,000 x 16 KiB = 220.25 MiB, rounded up
  EXPECT_EQ(r["limits"]["memory"], "506Mi");
  EXPECT_FALSE(r["limits"].contains("cpu"));
  EXPECT_EQ(big["spec"]["terminationGracePeriodSeconds"], 33);  // 2.5 s rounds up to 3

  EXPECT_EQ(usersPerAgent(20, 2), 10);
  EXPECT_EQ(usersPerAgent(7, 2), 4);  // the larger share
  EXPECT_EQ(usersPerAgent(0, 3), 1);
  EXPECT_EQ(usersPerAgent(5, 0), 5);
}

// A resource the template names, in requests or limits, is the template's
// alone (no default request above its limit); the others keep their defaults.
TEST(AgentPod, TemplateResourcesAndGraceWin) {
  LoadTestSpec spec;
  spec.agent_template = {{"resources", {{"limits", {{"memory", "128Mi"}}}, {"claims", json::array({{{"name", "g"}}})}}},
                         {"terminationGracePeriodSeconds", 5}};
  auto pod = buildAgentPod(loadtest(), spec, "shop-1", 0, {}, AgentSizing{100000, std::chrono::seconds(30)});
  const auto& r = pod["spec"]["containers"][0]["resources"];
  EXPECT_EQ(r["limits"], json({{"memory", "128Mi"}}));
  EXPECT_EQ(r["requests"], json({{"cpu", "250m"}}));  // memory: the template's limit, so Kubernetes' default
  EXPECT_EQ(r["claims"][0]["name"], "g");
  EXPECT_EQ(pod["spec"]["terminationGracePeriodSeconds"], 5);

  spec.agent_template = {{"resources", {{"requests", {{"cpu", "2"}, {"memory", "1Gi"}}}}}};
  auto both = buildAgentPod(loadtest(), spec, "shop-1", 0, {}, AgentSizing{10, std::chrono::seconds(30)});
  EXPECT_EQ(both["spec"]["containers"][0]["resources"], json({{"requests", {{"cpu", "2"}, {"memory", "1Gi"}}}}));
}

TEST(AgentPod, SecurityContextIsRestrictedWhateverTheTemplate) {
  auto spec = specWithTemplate();
  spec.agent_template["securityContext"] = {{"privileged", true}};  // not a template field: ignored
  auto pod = buildAgentPod(loadtest(), spec, "shop-1", 0, {});
  const auto& psc = pod["spec"]["securityContext"];
  EXPECT_EQ(psc["runAsNonRoot"], true);
  EXPECT_EQ(psc["seccompProfile"]["type"], "RuntimeDefault");
  const auto& csc = pod["spec"]["containers"][0]["securityContext"];
  EXPECT_EQ(csc["runAsNonRoot"], true);
  EXPECT_EQ(csc["readOnlyRootFilesystem"], true);
  EXPECT_EQ(csc["allowPrivilegeEscalation"], false);
  EXPECT_EQ(csc["capabilities"]["drop"], json({"ALL"}));
  EXPECT_FALSE(csc.contains("privileged"));
  EXPECT_EQ(pod["spec"]["automountServiceAccountToken"], false);
  EXPECT_EQ(pod["spec"]["containers"][0]["image"], "registry.local/herd:1.2");
  spec.agent_template.erase("image");
  AgentSettings settings;
  settings.image = "herd:9";
  EXPECT_EQ(buildAgentPod(loadtest(), spec, "shop-1", 0, settings)["spec"]["containers"][0]["image"], "herd:9");
}

TEST(AgentPod, ServesMetricsOnANamedPortWhenAsked) {
  auto spec = specWithTemplate();
  auto plain = buildAgentPod(loadtest(), spec, "shop-1", 0, {});
  EXPECT_FALSE(plain["spec"]["containers"][0].contains("ports"));
  EXPECT_FALSE(plain["metadata"]["annotations"].contains("prometheus.io/scrape"));
  for (const auto& a : plain["spec"]["containers"][0]["args"]) EXPECT_NE(a, "--metrics-listen");

  spec.agent_template["annotations"]["prometheus.io/path"] = "/custom";  // the template's own value wins
  AgentSettings settings;
  settings.metrics_port = 9464;
  auto pod = buildAgentPod(loadtest(), spec, "shop-1", 0, settings);
  const auto& c = pod["spec"]["containers"][0];
  ASSERT_EQ(c["ports"].size(), 1u);
  EXPECT_EQ(c["ports"][0]["name"], "metrics");
  EXPECT_EQ(c["ports"][0]["containerPort"], 9464);
  EXPECT_EQ(c["ports"][0]["protocol"], "TCP");
  const auto& args = c["args"];
  ASSERT_GE(args.size(), 2u);
  EXPECT_EQ(args[args.size() - 2], "--metrics-listen");
  EXPECT_EQ(args[args.size() - 1], ":9464");
  const auto& annotations = pod["metadata"]["annotations"];
  EXPECT_EQ(annotations["prometheus.io/scrape"], "true");
  EXPECT_EQ(annotations["prometheus.io/port"], "9464");
  EXPECT_EQ(annotations["prometheus.io/path"], "/custom");
  EXPECT_EQ(annotations["note"], "n");
}

TEST(RunId, IsAValidLabelValueForLongNames) {
  auto id = makeRunId(std::string(80, 'a'), 0xabcdef12);
  EXPECT_LE(id.size(), 63u);
  EXPECT_EQ(id.substr(id.size() - 7), "-cdef12");
  EXPECT_EQ(makeRunId("shop", 1), "shop-000001");
  EXPECT_EQ(makeRunId(std::string(55, 'b') + "-x", 1).find("--"), std::string::npos);
}

TEST(ClassifyPod, ReadsWhatKubeletAndSchedulerReport) {
  using S = PodHealth::State;
  EXPECT_EQ(classifyPod(json::object()).state, S::kPending);
  json ready{{"status", {{"phase", "Running"}, {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
  EXPECT_EQ(classifyPod(ready).state, S::kReady);
  json unsched{{"status",
                {{"phase", "Pending"},
                 {"conditions",
                  {{{"type", "PodScheduled"},
                    {"status", "False"},
                    {"reason", "Unschedulable"},
                    {"message", "0/3 nodes are available"}}}}}}};
  EXPECT_EQ(classifyPod(unsched).state, S::kUnschedulable);
  EXPECT_EQ(classifyPod(unsched).message, "0/3 nodes are available");
  json crash{{"status",
              {{"phase", "Running"},
               {"containerStatuses",
                {{{"state", {{"waiting", {{"reason", "CrashLoopBackOff"}, {"message", "back-off"}}}}}}}}}}};
  EXPECT_EQ(classifyPod(crash).state, S::kCrashed);
  // The kubelet retries a pull: not a crash, until the reconciler's bounded wait ends.
  for (const char* reason : {"ErrImagePull", "ImagePullBackOff"}) {
    json pulling{
        {"status",
         {{"phase", "Pending"},
          {"containerStatuses", {{{"state", {{"waiting", {{"reason", reason}, {"message", "not found"}}}}}}}}}}};
    EXPECT_EQ(classifyPod(pulling).state, S::kImagePulling) << reason;
    EXPECT_EQ(classifyPod(pulling).message, std::string(reason) + ": not found");
  }
  json exited{{"status",
               {{"phase", "Failed"},
                {"containerStatuses", {{{"state", {{"terminated", {{"exitCode", 3}, {"reason", "Error"}}}}}}}}}}};
  EXPECT_EQ(classifyPod(exited).state, S::kCrashed);
  EXPECT_EQ(classifyPod(exited).message, "exited with code 3 (Error)");
  EXPECT_EQ(classifyPod(json{{"status", {{"phase", "Succeeded"}}}}).state, S::kSucceeded);
  EXPECT_EQ(classifyPod(json{{"metadata", {{"deletionTimestamp", "2026-01-01T00:00:00Z"}}}}).state, S::kTerminating);
  EXPECT_EQ(classifyPod(json{{"status", 7}}).state, S::kPending);  // odd JSON never throws
}

TEST(Conditions, TransitionTimeMovesOnlyWithTheStatus) {
  json st = json::object();
  EXPECT_TRUE(setCondition(st, "Complete", false, "Starting", "", 1, "t1"));
  EXPECT_FALSE(setCondition(st, "Complete", false, "Still", "m", 2, "t2"));
  EXPECT_EQ(st["conditions"][0]["lastTransitionTime"], "t1");
  EXPECT_EQ(st["conditions"][0]["reason"], "Still");
  EXPECT_TRUE(setCondition(st, "Complete", true, "Done", "", 3, "t3"));
  EXPECT_EQ(st["conditions"][0]["lastTransitionTime"], "t3");
  EXPECT_EQ(st["conditions"].size(), 1u);
  EXPECT_EQ(conditionStatus(st, "Complete"), std::optional<bool>(true));
  EXPECT_EQ(conditionStatus(st, "Running"), std::nullopt);
}

TEST(History, NewestFirstAndBounded) {
  json st = json::object();
  for (int i = 0; i < 5; ++i) pushHistory(st, {{"runId", std::to_string(i)}}, 3);
  ASSERT_EQ(st["history"].size(), 3u);
  EXPECT_EQ(st["history"][0]["runId"], "4");
  EXPECT_EQ(st["history"][2]["runId"], "2");
  pushHistory(st, {{"runId", "x"}}, 0);
  EXPECT_TRUE(st["history"].empty());
}

TEST(Regression, ComparesWithTheNewestPassingRun) {
  LoadTestSpec spec;
  spec.max_p95_increase_percent = 20;
  spec.max_rps_decrease_percent = 10;
  json history = json::array(
      {{{"runId", "r3"}, {"verdict", "Failed"}, {"totals", totalsJson({100, 50, 10, 1, 900, 1000})}},
       {{"runId", "r2"}, {"verdict", "Passed"}, {"totals", totalsJson({100, 0, 100, 1, 100, 120})}},
       {{"runId", "r1"}, {"verdict", "Passed"}, {"totals", totalsJson({100, 0, 100, 1, 10, 12})}}});
  EXPECT_FALSE(regression(history, {100, 0, 95, 1, 119, 130}, spec));
  auto slower = regression(history, {100, 0, 100, 1, 121, 130}, spec);
  ASSERT_TRUE(slower);
  EXPECT_NE(slower->find("run r2"), std::string::npos) << *slower;
  EXPECT_TRUE(regression(history, {100, 0, 89, 1, 100, 130}, spec));
  EXPECT_FALSE(regression(json::array(), {100, 0, 1, 1, 1000, 1000}, spec));
  EXPECT_FALSE(regression(json("garbage"), {}, spec));
}

TEST(Totals, FailurePercent) {
  auto t = totalsJson({200, 3, 10, 1, 2, 3});
  EXPECT_DOUBLE_EQ(t["failurePercent"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(totalsJson({})["failurePercent"].get<double>(), 0);
}

TEST(Summary, TopEndpointsAndDeliveryForTheStatus) {
  json summary{{"version", 1},
               {"endpoints", json::array()},
               {"delivery", json::array({{{"stream", "chat"}, {"published", 10}, {"delivered", 9}, {"lost", 1}}})}};
  for (int i = 0; i < 12; ++i)
    summary["endpoints"].push_back({{"name", "/e" + std::to_string(i)},
                                    {"method", "GET"},
                                    {"requests", i * 10},
                                    {"failures", i},
                                    {"rps", i * 1.5},
                                    {"latency", {{"p95", 2.5 * i}}}});
  auto endpoints = endpointsFromSummary(summary.dump());
  ASSERT_EQ(endpoints.size(), 10u);
  EXPECT_EQ(endpoints[0]["name"], "/e11");
  EXPECT_EQ(endpoints[0]["requests"], 110);
  EXPECT_DOUBLE_EQ(endpoints[0]["p95"].get<double>(), 27.5);
  EXPECT_EQ(endpoints[9]["name"], "/e2");
  auto delivery = deliveryFromSummary(summary.dump());
  ASSERT_EQ(delivery.size(), 1u);
  EXPECT_EQ(delivery[0]["lost"], 1);
  EXPECT_TRUE(endpointsFromSummary("not json").empty());
  EXPECT_TRUE(endpointsFromSummary(R"({"endpoints": 3})").empty());
  EXPECT_TRUE(deliveryFromSummary("").empty());
}

// summary.json's missingTotals, as the TotalsComplete condition and the status
// message say it.
TEST(Summary, IncompleteTotalsSayWhoWhenAndHowMuch) {
  EXPECT_EQ(incompleteTotals(R"({"totalsComplete": true})"), std::nullopt);
  EXPECT_EQ(incompleteTotals("not json"), std::nullopt);
  EXPECT_EQ(incompleteTotals("{}"), std::nullopt);  // a summary from before the field: nothing known
  const auto said = incompleteTotals(R"({"totalsComplete": false, "missingTotals": {
      "agents": [{"agent": "shop-1-agent-1/u", "reason": "lost before it delivered these reports",
                  "fromSecond": 20, "toSecond": 21.4, "estimatedRequests": 812},
                 {"agent": null, "users": [[5, 5]], "reason": "their agents did not come back",
                  "fromSecond": 0, "toSecond": 12.5}],
      "estimatedRequests": 812}})");
  ASSERT_TRUE(said);
  EXPECT_EQ(*said,
            "no reports from shop-1-agent-1/u 20s-22s (lost before it delivered these reports), users whose agents did "
            "not come back 0s-13s (their agents did not come back); about 812 requests missing; thresholds judged on "
            "what was counted");
}

}  // namespace
}  // namespace herd::controller

namespace herd::controller {
namespace {

TEST(SummaryConfigMap, KeepsTheGzippedReportWhenItFitsAndSaysWhyNotWhenNot) {
  const std::string summary = R"({"runId":"r1"})";
  const auto plain = buildSummaryConfigMap(loadtest(), "r1", summary);
  EXPECT_EQ(plain["metadata"]["name"], "r1-summary");
  EXPECT_EQ(plain["data"]["summary.json"], summary);
  EXPECT_FALSE(plain.contains("binaryData"));

  const auto small = buildSummaryConfigMap(loadtest(), "r1", summary, report::gzip("<html>page</html>"));
  ASSERT_TRUE(small["binaryData"].contains("report.html.gz")) << small.dump();
  EXPECT_EQ(*report::gunzip(*report::base64Decode(small["binaryData"]["report.html.gz"].get<std::string>())),
            "<html>page</html>");
  EXPECT_FALSE(small["metadata"].contains("annotations"));

  // Above the budget (base64 makes 3 bytes 4): left out, the annotation says how large it was.
  const std::string big((k8s::loadtest::kConfigMapBudget / 4) * 3, 'x');
  const auto over = buildSummaryConfigMap(loadtest(), "r1", summary, big);
  EXPECT_FALSE(over.contains("binaryData")) << over["metadata"].dump();
  EXPECT_EQ(over["data"]["summary.json"], summary);
  const auto why = over["metadata"]["annotations"]["herd.dev/report-omitted"].get<std::string>();
  EXPECT_NE(why.find(std::to_string(big.size()) + " bytes gzipped"), std::string::npos) << why;
  EXPECT_NE(why.find("ConfigMap budget of " + std::to_string(k8s::loadtest::kConfigMapBudget)), std::string::npos);
  // Just within it: kept.
  const std::string fits((k8s::loadtest::kConfigMapBudget - summary.size()) / 4 * 3, 'x');
  EXPECT_TRUE(buildSummaryConfigMap(loadtest(), "r1", summary, fits).contains("binaryData"));
}

}  // namespace
}  // namespace herd::controller
