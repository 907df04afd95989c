#include "agent/runtime/worker.h"

#include <strings.h>

#include <ctime>
#include <iterator>

#include <fmt/format.h>

#include "agent/runtime/cookie_jar.h"
#include "agent/runtime/virtual_user.h"
#include "common/scenario/grpc.h"
#include "common/scenario/template.h"

namespace herd::runtime {

namespace {

Nanos threadCpuTime() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + Nanos(ts.tv_nsec);
}

bool isLiteral(const scenario::RequestStep& step) {
  if (!step.path.isLiteral()) return false;
  if (step.body && !step.body->isLiteral()) return false;
  for (const auto& header : step.headers) {
    if (!header.value.isLiteral()) return false;
  }
  return true;
}

}  // namespace

Worker::Worker(const RunShared& shared, size_t index, size_t count, uint64_t seed)
    : shared_(shared),
      rng_(seed),
      recorder_(shared.plan->endpoints.size()),
      spawner_(*this, index, count),
      tick_timer_([this] { tick(); }),
      abandon_timer_([this] { abandonAll(); }),
      reader_(*shared.plan),
      feeders_(*shared.plan, index, count) {
  for (const auto& origin : shared.plan->origins) host_headers_.push_back(origin.hostHeader());
  auto cache_literal = [this](const std::vector<scenario::Step>& steps) {
    for (const auto& step : steps) {
      const auto* request = std::get_if<scenario::RequestStep>(&step);
      if (request && isLiteral(*request) && !request->delivery) {
        serialise(*request, scenario::RenderContext{0, "", rng_}, nullptr, {}, {}, static_requests_[request]);
      }
    }
  };
  for (const auto& user_class : shared.plan->classes) {
    cache_literal(user_class.on_start);
    cache_literal(user_class.steps);
    for (const auto& task : user_class.tasks) cache_literal(task.steps);
  }
}

Worker::~Worker() {
  if (thread_.joinable()) {
    loop_.stop();
    thread_.join();
  }
}

void Worker::start() {
  thread_ = std::thread([this] {
    last_tick_wall_ = MonoClock::now();
    last_cpu_ = threadCpuTime();
    spawner_.start();
    loop_.arm(tick_timer_, shared_.tick_origin.value_or(shared_.start) + std::chrono::seconds(1));
    loop_.run();
  });
}

void Worker::stop(MonoTime abandon_at) {
  loop_.post([this, abandon_at] { beginStop(abandon_at); });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

std::vector<Snapshot> Worker::takeSnapshots() {
  std::lock_guard lock(outbox_mutex_);
  return std::exchange(outbox_, {});
}

VirtualUser& Worker::addUser(int64_t global) {
  if (first_spawn_ == MonoTime{}) first_spawn_ = MonoClock::now();
  const auto& user_class = shared_.plan->classes[shared_.user_classes[static_cast<size_t>(global)]];
  const auto slot = static_cast<size_t>(global);
  const int64_t class_index = slot < shared_.class_indexes.size() ? shared_.class_indexes[slot] : 0;
  users_.push_back(std::make_unique<VirtualUser>(*this, shared_.first_user_index + global, user_class, class_index));
  ++alive_;
  return *users_.back();
}

void Worker::tick() {
  ++tick_;
  publish(false);
  loop_.arm(tick_timer_, shared_.tick_origin.value_or(shared_.start) + std::chrono::seconds(tick_ + 1));
}

void Worker::publish(bool final) {
  const auto now = MonoClock::now();
  const auto cpu = threadCpuTime();
  const auto wall = now - last_tick_wall_;
  Snapshot snapshot;
  snapshot.tick = tick_;
  snapshot.interval = std::exchange(recorder_, stats::Recorder(shared_.plan->endpoints.size()));
  snapshot.users = alive_;
  // The last interval is cut short by the stop, whose connection teardown would read
  // as a burst of load over a few milliseconds: it is measured against a whole second.
  const auto window = final ? std::max<Nanos>(wall, std::chrono::seconds(1)) : wall;
  snapshot.busy_fraction = window.count() > 0
                               ? static_cast<double>((cpu - last_cpu_).count()) / static_cast<double>(window.count())
                               : 0;
  snapshot.final = final;
  snapshot.first_spawn = first_spawn_;
  if (final) snapshot.delivery = std::move(delivery_);
  last_cpu_ = cpu;
  last_tick_wall_ = now;
  std::lock_guard lock(outbox_mutex_);
  outbox_.push_back(std::move(snapshot));
}

void Worker::beginStop(MonoTime abandon_at) {
  if (stopping_) return;
  stopping_ = true;
  spawner_.stop();
  loop_.arm(abandon_timer_, abandon_at);
  for (auto& user : users_) {
    if (!user->done()) user->stop();
  }
  finishIfIdle();
}

void Worker::abandonAll() {
  abandoning_ = true;
  for (auto& user : users_) {
    if (!user->done()) user->abandon();
  }
  finishIfIdle();
}

void Worker::userFinished() {
  --alive_;
  finishIfIdle();
}

void Worker::finishIfIdle() {
  if (!stopping_ || alive_ > 0 || finished_) return;
  finished_ = true;
  loop_.disarm(tick_timer_);
  loop_.disarm(abandon_timer_);
  publish(true);
  loop_.stop();
}

std::string_view Worker::renderRequest(const scenario::RequestStep& step, const scenario::RenderContext& context,
                                       const CookieJar* cookies, std::string_view body_prefix,
                                       std::string_view extra_headers) {
  // A literal request is served from the cache unless the user has cookies to send.
  const bool no_cookies = cookies == nullptr || cookies->size() == 0;
  if (no_cookies) {
    if (auto it = static_requests_.find(&step); it != static_requests_.end()) return it->second;
  }
  request_buffer_.clear();
  serialise(step, context, cookies, body_prefix, extra_headers, request_buffer_);
  return request_buffer_;
}

// HTTP/1.1 request bytes: request line, Host, the step's headers, and the body
// with its length. Header names come from the plan as the user wrote them.
void Worker::serialise(const scenario::RequestStep& step, const scenario::RenderContext& context,
                       const CookieJar* cookies, std::string_view body_prefix, std::string_view extra_headers,
                       std::string& out) {
  out += step.method;
  out += ' ';
  scenario::renderTemplate(step.path, context, out);
  out += " HTTP/1.1\r\nHost: ";
  out += host_headers_[step.origin];
  out += "\r\n";
  bool has_user_agent = false;
  bool has_content_type = false;
  for (const auto& header : step.headers) {
    out += header.name;
    out += ": ";
    scenario::renderTemplate(header.value, context, out);
    out += "\r\n";
    has_user_agent = has_user_agent || strcasecmp(header.name.c_str(), "user-agent") == 0;
    has_content_type = has_content_type || strcasecmp(header.name.c_str(), "content-type") == 0;
  }
  if (!has_user_agent) out += "User-Agent: herd/0.1\r\n";
  out += extra_headers;
  if (cookies != nullptr) {
    const size_t mark = out.size();
    out += "Cookie: ";
    if (cookies->appendHeader(shared_.plan->origins[step.origin].host, out)) {
      out += "\r\n";
    } else {
      out.resize(mark);
    }
  }
  if (step.grpc) {
    // gRPC: the body is the framed message (its JSON converted here when it
    // holds expressions); HTTP/2's END_STREAM ends it, no Content-Length.
    out += "\r\n";
    if (!step.grpc_json_body) {
      scenario::renderTemplate(*step.body, context, out);
      return;
    }
    auto& json = body_buffer_;
    json.clear();
    scenario::renderTemplate(*step.body, context, json);
    grpc_error_.clear();
    if (!step.grpc->encodeRequest(json, out, grpc_error_) && grpc_error_.empty()) grpc_error_ = "invalid message";
    return;
  }
  if (step.body) {
    auto& body = body_buffer_;
    body.assign(body_prefix);
    scenario::renderTemplate(*step.body, context, body);
    if (!has_content_type && !step.content_type.empty()) {
      out += "Content-Type: ";
      out += step.content_type;
      out += "\r\n";
    }
    fmt::format_to(std::back_inserter(out), "Content-Length: {}\r\n\r\n", body.size());
    out += body;
  } else {
    out += "\r\n";
  }
}

engine::Http2Pool& Worker::http2Pool(size_t origin) {
  if (http2_pools_.size() <= origin) http2_pools_.resize(origin + 1);
  auto& pool = http2_pools_[origin];
  if (!pool) pool = std::make_unique<engine::Http2Pool>(loop_, shared_.targets[origin], shared_.plan->http2_streams);
  return *pool;
}

}  // namespace herd::runtime
