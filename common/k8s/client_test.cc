// Client logic over a scripted Transport: error mapping, pagination, conflict
// retry and watch-stream failures. The same behaviour against the real
// apiserver is in tests/cluster/.
#include "common/k8s/client.h"

#include <deque>

#include <gtest/gtest.h>

namespace herd::k8s {
namespace {

using json = Json;

class ScriptedStream final : public BodyStream {
 public:
  explicit ScriptedStream(std::deque<Result<std::string>> chunks) : chunks_(std::move(chunks)) {}
  Result<std::string> read() override {
    if (chunks_.empty()) return std::string{};
    auto c = std::move(chunks_.front());
    chunks_.pop_front();
    return c;
  }
  void cancel() override {}

 private:
  std::deque<Result<std::string>> chunks_;
};

class ScriptedTransport final : public Transport {
 public:
  std::deque<Result<HttpResponse>> responses;
  std::deque<std::pair<int, std::deque<Result<std::string>>>> streams;
  std::vector<HttpRequest> sent;

  Result<HttpResponse> send(const HttpRequest& r) override {
    sent.push_back(r);
    if (responses.empty()) return Error{"script exhausted", r.path_query};
    auto next = std::move(responses.front());
    responses.pop_front();
    return next;
  }
  Result<StreamResponse> stream(const HttpRequest& r, std::chrono::seconds) override {
    sent.push_back(r);
    auto [status, chunks] = std::move(streams.front());
    streams.pop_front();
    return StreamResponse{status, std::make_unique<ScriptedStream>(std::move(chunks))};
  }
  std::string server() const override { return "https://test"; }
};

struct Fixture {
  ScriptedTransport* t;
  Client client;
  Fixture() : t(new ScriptedTransport), client(std::unique_ptr<Transport>(t)) {}
};

TEST(Client, StatusBodyBecomesApiError) {
  Fixture f;
  f.t->responses.push_back(
      HttpResponse{404, R"({"kind":"Status","reason":"NotFound","message":"configmaps \"x\" not found"})"});
  auto r = f.client.get(resources::kConfigMaps, "ns", "x");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().isNotFound());
  EXPECT_EQ(r.error().reason, "NotFound");
  EXPECT_EQ(r.error().where, "GET https://test/api/v1/namespaces/ns/configmaps/x");
  EXPECT_EQ(r.error().describe(),
            "GET https://test/api/v1/namespaces/ns/configmaps/x: 404 NotFound: configmaps \"x\" not found");
}

TEST(Client, BadBodiesAreErrorsNotCrashes) {
  Fixture f;
  f.t->responses.push_back(HttpResponse{200, "<html>hello</html>"});
  f.t->responses.push_back(HttpResponse{503, "upstream connect error"});
  f.t->responses.push_back(HttpResponse{200, R"({"truncated":)"});
  f.t->responses.push_back(Error{"Connection refused", "GET https://test/x"});
  auto a = f.client.get(resources::kPods, "ns", "p");
  EXPECT_EQ(a.error().status, 0);
  EXPECT_NE(a.error().message.find("not a JSON object"), std::string::npos);
  auto b = f.client.get(resources::kPods, "ns", "p");
  EXPECT_EQ(b.error().status, 503);
  EXPECT_TRUE(b.error().isTransient());
  EXPECT_EQ(b.error().message, "upstream connect error");
  EXPECT_FALSE(f.client.get(resources::kPods, "ns", "p").ok());
  auto d = f.client.get(resources::kPods, "ns", "p");
  EXPECT_TRUE(d.error().isTransient());
  EXPECT_EQ(d.error().message, "Connection refused");
}

TEST(Client, ListAllFollowsContinueTokens) {
  Fixture f;
  f.t->responses.push_back(
      HttpResponse{200, R"({"metadata":{"resourceVersion":"10","continue":"t1"},"items":[{"a":1}]})"});
  f.t->responses.push_back(
      HttpResponse{200, R"({"metadata":{"resourceVersion":"10","continue":""},"items":[{"a":2}]})"});
  auto all = f.client.listAll(resources::kPods, "ns", ListOptions{"app=x", "", 1, "", ""});
  ASSERT_TRUE(all.ok()) << all.error().describe();
  EXPECT_EQ((*all)["items"].size(), 2u);
  EXPECT_EQ((*all)["metadata"]["resourceVersion"], "10");
  EXPECT_FALSE((*all)["metadata"].contains("continue"));
  EXPECT_EQ(f.t->sent[1].path_query, "/api/v1/namespaces/ns/pods?continue=t1&labelSelector=app%3Dx&limit=1");
}

TEST(Client, UpdateStatusRetriesConflicts) {
  Fixture f;
  const std::string obj = R"({"metadata":{"name":"w","namespace":"ns","resourceVersion":"1"},"status":{"n":0}})";
  const std::string conflict = R"({"kind":"Status","reason":"Conflict","message":"modified"})";
  f.t->responses = {HttpResponse{200, obj}, HttpResponse{409, conflict}, HttpResponse{200, obj},
                    HttpResponse{200, R"({"status":{"n":1}})"}};
  auto r = updateStatus(f.client, resources::kPods, "ns", "w", [](json& o) {
    o["status"]["n"] = o["status"]["n"].get<int>() + 1;
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(f.t->sent.size(), 4u);
  EXPECT_EQ(f.t->sent[3].method, "PUT");
  EXPECT_EQ(f.t->sent[3].path_query, "/api/v1/namespaces/ns/pods/w/status");
}

TEST(Client, CountsEveryRequestByVerbWhateverItsOutcome) {
  Fixture f;
  const std::string obj = R"({"metadata":{"name":"w","namespace":"ns","resourceVersion":"1"},"status":{"n":0}})";
  const std::string conflict = R"({"kind":"Status","reason":"Conflict","message":"modified"})";
  f.t->responses = {HttpResponse{200, obj}, HttpResponse{409, conflict}, HttpResponse{200, obj}, HttpResponse{200, obj},
                    Error{"Connection refused", "x"}};
  ASSERT_TRUE(updateStatus(f.client, resources::kPods, "ns", "w", [](json&) { return true; }).ok());  // 2 GET 2 PUT
  EXPECT_FALSE(f.client.remove(resources::kPods, "ns", "w").ok());  // no response still counts
  f.t->streams.push_back({200, {std::string("")}});
  EXPECT_TRUE(f.client.watch(resources::kPods, "ns", {}, [](WatchEvent&&) {}).ok());
  const auto n = f.client.requestCounts();
  EXPECT_EQ(n.by_verb, (std::array<uint64_t, 6>{2, 0, 2, 0, 1, 1}));
  EXPECT_EQ(n.total(), 6u);
}

TEST(Client, WatchDeliversEventsAndReportsBrokenStreams) {
  Fixture f;
  const std::string ev = R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})";
  f.t->streams.push_back({200, {ev.substr(0, 7), ev.substr(7) + "\n"}});                         // clean end
  f.t->streams.push_back({200, {ev + "\n", ev.substr(0, 20)}});                                  // truncated
  f.t->streams.push_back({200, {std::string("\x01\x02garbage\n")}});                             // garbage
  f.t->streams.push_back({200, {ev + "\n", Result<std::string>(Error{"reset by peer", "x"})}});  // dropped
  f.t->streams.push_back(
      {410, {std::string(R"({"kind":"Status","code":410,"reason":"Expired","message":"too old"})")}});
  int events = 0;
  auto count = [&](WatchEvent&&) { ++events; };
  EXPECT_TRUE(f.client.watch(resources::kPods, "ns", {}, count).ok());
  EXPECT_EQ(events, 1);
  auto truncated = f.client.watch(resources::kPods, "ns", {}, count);
  EXPECT_NE(truncated.error().message.find("ended inside an event"), std::string::npos);
  auto garbage = f.client.watch(resources::kPods, "ns", {}, count);
  EXPECT_NE(garbage.error().message.find("not JSON"), std::string::npos);
  EXPECT_EQ(f.client.watch(resources::kPods, "ns", {}, count).error().message, "reset by peer");
  EXPECT_TRUE(f.client.watch(resources::kPods, "ns", {}, count).error().isGone());
  EXPECT_EQ(events, 3);
}

}  // namespace
}  // namespace herd::k8s
