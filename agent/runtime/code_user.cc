#include "agent/runtime/code_user.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

#include "agent/runtime/spawner.h"
#include "agent/runtime/virtual_user.h"
#include "agent/runtime/worker.h"
#include "common/core/logging.h"
#include "common/scenario/compiler.h"
#include "common/scenario/extract.h"

namespace herd::runtime {

namespace {

// Iterations that end without a single wait (an iteration that throws at once,
// say) go back to the loop after this many, so one user cannot starve the
// others or the stop.
constexpr uint32_t kIterationsBeforeYield = 100;

std::string_view declaredName(std::string_view declared) {
  const size_t space = declared.find(' ');
  return space == std::string_view::npos ? declared : declared.substr(space + 1);
}

bool hasBody(const herd::Request& request) {
  return !request.body.empty() || request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
}

}  // namespace

CodeUser::CodeUser(VirtualUser& owner, const scenario::UserClass& user_class)
    : owner_(owner),
      class_(user_class),
      code_(*user_class.code),
      entry_(*static_cast<const herd::ClassEntry*>(user_class.code->entry)),
      instance_(entry_.create()),
      open_(owner.worker().shared().arrivals != nullptr),
      last_endpoint_(code_.first_endpoint),
      timer_([this] { onTimer(); }) {}

CodeUser::~CodeUser() {
  // The coroutine frame goes before the instance its `this` points into.
  task_ = herd::Task();
}

int64_t CodeUser::index() const { return owner_.index(); }
int64_t CodeUser::classIndex() const { return owner_.classIndex(); }
std::string_view CodeUser::className() const { return class_.name; }

const std::string* CodeUser::param(std::string_view name) const {
  const auto& params = owner_.worker().shared().plan->params;
  const auto it = params.find(std::string(name));
  return it == params.end() ? nullptr : &it->second;
}

std::string& CodeUser::variable(std::string_view name) {
  auto it = variables_.find(name);
  if (it == variables_.end()) it = variables_.emplace(std::string(name), std::string()).first;
  return it->second;
}

double CodeUser::random() { return owner_.worker().rng().unit(); }

bool CodeUser::check(bool holds, std::string_view name) {
  size_t index = 0;
  while (index < entry_.checks.size() && entry_.checks[index] != name) ++index;
  if (index == entry_.checks.size()) {
    throw std::invalid_argument(fmt::format("check \"{}\" is not declared by class {}", name, entry_.name));
  }
  if (!record_) throw std::logic_error(fmt::format("check \"{}\" before any response", name));
  // The first check that fails names the failure, as in YAML.
  if (!holds && record_->error == stats::ErrorKind::kNone) {
    record_->error = stats::ErrorKind::kCheck;
    record_->code = static_cast<int32_t>(code_.first_check + index);
  }
  return holds;
}

std::optional<std::string> CodeUser::capture(const herd::Response& response, const herd::Capture& capture) {
  auto& reader = owner_.worker().reader();
  std::optional<std::string_view> found;
  switch (capture.kind) {
    case herd::Capture::Kind::kHeader: found = scenario::headerValue(response.headers, capture.source); break;
    case herd::Capture::Kind::kJsonPath: {
      const auto pointer = scenario::jsonPathToPointer(capture.source);
      if (!pointer) throw std::invalid_argument(pointer.error().message);
      reader.reset(response.body);
      found = reader.json(*pointer);
      break;
    }
    case herd::Capture::Kind::kRegex: {
      int groups = 0;
      const auto pattern = reader.pattern(capture.source, groups);
      if (!pattern) throw std::invalid_argument(pattern.error().message);
      // The first group when there is one, as a YAML capture without `group:`.
      const int group = capture.group < 0 ? (groups > 0 ? 1 : 0) : capture.group;
      if (group > groups) {
        throw std::invalid_argument(
            fmt::format("the pattern \"{}\" has {} group(s), asked for group {}", capture.source, groups, group));
      }
      reader.reset(response.body);
      found = reader.regex(*pattern, group);
      break;
    }
  }
  if (!found) return std::nullopt;
  return std::string(*found);
}

bool CodeUser::feed(std::string_view source) {
  auto& worker = owner_.worker();
  const auto& data = worker.shared().plan->data;
  size_t index = 0;
  while (index < data.size() && data[index].name != source) ++index;
  if (index == data.size()) {
    std::string names;
    for (const auto& known : data) names += (names.empty() ? "" : ", ") + known.name;
    throw std::invalid_argument(fmt::format("unknown data source \"{}\" (the scenario's data: has {})", source,
                                            names.empty() ? "none" : names));
  }
  const auto* row = worker.feeders().next(index, worker.rng());
  if (row == nullptr) {
    // A unique source is used up: this user stops, as after a YAML feed step.
    // Not from here (the coroutine is running): its next wait ends it.
    stop_requested_ = true;
    return false;
  }
  const auto& columns = data[index].columns;
  for (size_t i = 0; i < columns.size(); ++i) variable(fmt::format("{}.{}", source, columns[i])) = (*row)[i];
  return true;
}

void CodeUser::begin() { enter(Phase::kOnStart); }

void CodeUser::arrive(MonoTime intended) {
  arrival_ = intended;
  if (phase_ == Phase::kIdle) nextIteration();
}

void CodeUser::stop() {
  if (phase_ == Phase::kDone || stop_requested_) return;
  stop_requested_ = true;
  // A response in flight is waited for (and counted); a sleep ends now;
  // onStop runs to its end.
  // An exchange on the raw connection goes on until its record() (counted),
  // then the coroutine ends at its next wait (endAtWait()).
  // A socket call waits for its message (up to its timeout) or handshake.
  if (wait_ == Wait::kResponse || wait_ == Wait::kStream || wait_ == Wait::kSocket || phase_ == Phase::kOnStop) {
    return;
  }
  owner_.worker().loop().disarm(timer_);
  wait_ = Wait::kNone;
  endCoroutine();
  phaseEnded();
}

void CodeUser::abandon() {
  for (auto& channel : channels_) {
    if (channel) channel->cancel();
  }
  if (stream_) stream_->close();
  if (socket_) socket_->cancel();
  inbox_.clear();
  owner_.worker().loop().disarm(timer_);
  wait_ = Wait::kNone;
  flush();
  task_ = herd::Task();
  phase_ = Phase::kDone;
}

void CodeUser::enter(Phase phase) {
  phase_ = phase;
  switch (phase) {
    case Phase::kOnStart: task_ = instance_->onStart(*this); break;
    case Phase::kIterating: task_ = instance_->iteration(*this); break;
    case Phase::kOnStop: task_ = instance_->onStop(*this); break;
    case Phase::kIdle:
    case Phase::kDone: return;
  }
  // The first resume comes from the loop, never from inside the caller (the
  // spawner, a stop, or the end of the previous coroutine).
  wait_ = Wait::kStart;
  awaiter_ = task_.handle();
  owner_.worker().loop().arm(timer_, owner_.worker().loop().now());
}

void CodeUser::onTimer() {
  if (wait_ == Wait::kEnding) {
    wait_ = Wait::kNone;
    endCoroutine();
    phaseEnded();
    return;
  }
  if (wait_ == Wait::kSocket) {
    onSocketTimeout();
    return;
  }
  wait_ = Wait::kNone;
  resume(std::exchange(awaiter_, {}));
}

void CodeUser::resume(std::coroutine_handle<> handle) {
  handle.resume();
  if (!task_.handle().done()) return;  // it waits again
  endCoroutine();
  phaseEnded();
}

// The phase's coroutine ended (or was ended): count its last response, and what
// it threw.
void CodeUser::endCoroutine() {
  flush();
  if (task_.handle() && task_.handle().done()) {
    if (const auto& thrown = task_.handle().promise().exception) {
      try {
        std::rethrow_exception(thrown);
      } catch (const std::exception& e) {
        recordException(e.what());
      } catch (...) {
        recordException("unknown exception");
      }
    }
  }
  task_ = herd::Task();
}

void CodeUser::phaseEnded() {
  if (phase_ == Phase::kOnStop || owner_.worker().abandoning()) {
    phase_ = Phase::kDone;
    owner_.codeFinished();
    return;
  }
  if (stop_requested_) {
    enter(Phase::kOnStop);
    return;
  }
  nextIteration();
}

void CodeUser::nextIteration() {
  auto& worker = owner_.worker();
  if (open_) {
    if (!arrival_) {
      phase_ = Phase::kIdle;
      worker.spawner().userIdle(owner_);
      return;
    }
    // Latency counts from the intended start (coordinated omission).
    lateness_ = std::max(Nanos(0), worker.loop().now() - *arrival_);
    arrival_.reset();
  }
  if (++quick_iterations_ <= kIterationsBeforeYield) {
    phase_ = Phase::kIterating;
    task_ = instance_->iteration(*this);
    resume(task_.handle());
    return;
  }
  quick_iterations_ = 0;
  enter(Phase::kIterating);
}

void CodeUser::flush() {
  if (!record_) return;
  auto& recorder = owner_.worker().recorder();
  const Record& r = *record_;
  recorder.recordRequest(r.endpoint, r.latency_ns, r.bytes_received, r.bytes_sent, r.error, r.code);
  if (r.status != 0) recorder.recordProtocol(r.endpoint, r.http_version);
  record_.reset();
}

void CodeUser::recordException(std::string_view message) {
  const int32_t id = stats::exceptionMessageId(message);
  owner_.worker().recorder().recordError(last_endpoint_, stats::ErrorKind::kException, id);
  // The message travels in the log: a coordinator's summary shows its id.
  logger("runtime")->debug("class {} user {}: exception #{}: {}", class_.name, owner_.index(), id, message);
}

size_t CodeUser::endpointIndex(std::string_view name) const {
  if (name.empty()) return code_.first_endpoint;
  for (size_t i = 0; i < entry_.endpoints.size(); ++i) {
    if (entry_.endpoints[i] == name || declaredName(entry_.endpoints[i]) == name) return code_.first_endpoint + i;
  }
  throw std::invalid_argument(fmt::format("endpoint \"{}\" is not declared by class {}", name, entry_.name));
}

size_t CodeUser::originIndex(std::string_view origin) const {
  if (origin.empty()) return 0;
  for (const auto& named : code_.origins) {
    if (named.url == origin) return named.origin;
  }
  // Another spelling of a declared origin ("https://h:443" for "https://h").
  if (const auto parsed = scenario::parseOrigin(origin)) {
    const auto& origins = owner_.worker().shared().plan->origins;
    if (origins[0] == *parsed) return 0;
    for (const auto& named : code_.origins) {
      if (origins[named.origin] == *parsed) return named.origin;
    }
  }
  throw std::invalid_argument(
      fmt::format("origin \"{}\" is neither the target nor one of {}.origins", origin, code_.field));
}

engine::RequestChannel& CodeUser::channel(size_t origin, bool http2) {
  const size_t index = 2 * origin + (http2 ? 1 : 0);
  if (channels_.size() <= index) channels_.resize(index + 1);
  auto& slot = channels_[index];
  if (!slot) {
    auto& worker = owner_.worker();
    if (http2) {
      slot = std::make_unique<engine::Http2Exchange>(worker.http2Pool(origin), *this);
    } else {
      slot = std::make_unique<engine::HttpConnection>(worker.loop(), worker.shared().targets[origin], *this);
    }
  }
  return *slot;
}

// HTTP/1.1 request bytes (what HTTP/2 takes too) to plan origin `origin`.
void CodeUser::serialise(const herd::Request& request, size_t origin) {
  // Plain appends into a buffer kept across requests: this runs per request.
  auto& out = request_bytes_;
  out.clear();
  out += request.method;
  out += ' ';
  out += request.path;
  out += " HTTP/1.1\r\nHost: ";
  out += owner_.worker().hostHeader(origin);
  out += "\r\n";
  bool has_user_agent = false;
  for (const auto& header : request.headers) {
    if (header.name.find_first_of("\r\n:") != std::string::npos ||
        header.value.find_first_of("\r\n") != std::string::npos) {
      throw std::invalid_argument(fmt::format("header \"{}\" holds a line break or a colon in its name", header.name));
    }
    out += header.name;
    out += ": ";
    out += header.value;
    out += "\r\n";
    has_user_agent = has_user_agent || strcasecmp(header.name.c_str(), "user-agent") == 0;
  }
  if (!has_user_agent) out += "User-Agent: herd/0.1\r\n";
  if (hasBody(request)) fmt::format_to(std::back_inserter(out), "Content-Length: {}\r\n", request.body.size());
  out += "\r\n";
  out += request.body;
}

// Stopping: the coroutine does not start another wait; it ends from the loop
// (not from inside its own resume).
bool CodeUser::endAtWait() {
  if (!stop_requested_ || phase_ == Phase::kOnStop) return false;
  wait_ = Wait::kEnding;
  owner_.worker().loop().arm(timer_, owner_.worker().loop().now());
  return true;
}

void CodeUser::startRequest(const herd::Request& request, herd::Response& into, std::coroutine_handle<> awaiter) {
  flush();
  if (endAtWait()) return;
  // Both throw into the coroutine (await_suspend): the request is not sent.
  request_endpoint_ = endpointIndex(request.endpoint);
  if (request.path.empty() || request.path[0] != '/' || request.path.find_first_of(" \r\n") != std::string::npos) {
    throw std::invalid_argument("request path must start with '/' and hold no space or line break: " + request.path);
  }
  const size_t origin = originIndex(request.origin);
  const bool http2 = request.http == herd::Http::kDefault ? code_.http == scenario::HttpVersion::kHttp2
                                                          : request.http == herd::Http::kHttp2;
  serialise(request, origin);
  auto& connection = channel(origin, http2);
  last_endpoint_ = request_endpoint_;
  quick_iterations_ = 0;
  into_ = &into;
  awaiter_ = awaiter;
  wait_ = Wait::kResponse;
  request_start_ = MonoClock::now();
  connection.send(request_bytes_, request_start_ + request.timeout, request.method == "HEAD", request.read_body,
                  request.read_headers, false);
}

void CodeUser::onResponse(const engine::HttpResponse& response) {
  wait_ = Wait::kNone;
  const auto latency = MonoClock::now() - request_start_ + lateness_;
  Record record{request_endpoint_,       static_cast<uint64_t>(latency.count()),
                response.bytes_received, response.bytes_sent,
                response.error,          response.code,
                response.status,         response.http_version};
  // Without a check of its own, a status of 400 or more is a failure, as in YAML.
  if (record.error == stats::ErrorKind::kNone && response.status >= 400) {
    record.error = stats::ErrorKind::kStatus;
    record.code = response.status;
  }
  record_ = record;
  herd::Response& into = *std::exchange(into_, nullptr);
  into.status = response.status;
  into.error = response.error == stats::ErrorKind::kNone ? std::string()
                                                         : stats::errorMessage(response.error, response.code);
  into.body.assign(response.body);
  into.headers.assign(response.headers);
  into.latency = latency;
  into.http_version = response.http_version;
  if (stop_requested_ && phase_ != Phase::kOnStop) {
    // Stopping: the response is counted, the coroutine does not go on.
    endCoroutine();
    phaseEnded();
    return;
  }
  resume(std::exchange(awaiter_, {}));
}

void CodeUser::startSleep(std::chrono::nanoseconds duration, std::coroutine_handle<> awaiter) {
  flush();
  if (endAtWait()) return;
  quick_iterations_ = 0;
  awaiter_ = awaiter;
  wait_ = Wait::kSleep;
  auto& loop = owner_.worker().loop();
  loop.arm(timer_, loop.now() + std::max(Nanos(0), std::chrono::duration_cast<Nanos>(duration)));
}

}  // namespace herd::runtime

namespace herd::runtime {

namespace {

// The target's first address at `port` (0: its own port). Resolved before the
// run: nothing is looked up here.
engine::Address streamAddress(const engine::ConnectionTarget& target, uint16_t port) {
  if (target.addresses.empty()) throw std::runtime_error("the target has no address");
  engine::Address address = target.addresses[0];
  if (port == 0) return address;
  if (address.family() == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&address.storage)->sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in*>(&address.storage)->sin_port = htons(port);
  }
  return address;
}

}  // namespace

void CodeUser::startIo(herd::IoAwaiter::Op op, uint16_t port, const herd::ConnectOptions& options, std::string& bytes,
                       std::string& error, std::coroutine_handle<> awaiter) {
  flush();
  if (exchange_recorded_ && endAtWait()) return;
  quick_iterations_ = 0;
  auto& worker = owner_.worker();
  if (!stream_) stream_ = std::make_unique<engine::TcpStream>(worker.loop(), *this);
  switch (op) {
    case herd::IoAwaiter::Op::kConnect: {
      // Both throw into the coroutine (await_suspend): nothing is started.
      const auto& target = worker.shared().targets[originIndex(options.origin)];
      const engine::TlsContext* tls = nullptr;
      if (options.tls) {
        tls = worker.shared().tls.get();
        if (tls == nullptr) throw std::logic_error("TLS on the raw connection: this run has no TLS settings");
      }
      stream_->connect(streamAddress(target, port), tls, target.origin.host);
      received_.clear();
      break;
    }
    case herd::IoAwaiter::Op::kWrite: stream_->write(bytes); break;
    case herd::IoAwaiter::Op::kRead: stream_->read(received_); break;
  }
  stream_error_ = &error;
  awaiter_ = awaiter;
  wait_ = Wait::kStream;
}

void CodeUser::onStreamDone(int error) {
  wait_ = Wait::kNone;
  if (error == engine::TcpStream::kTlsFailed) {
    *stream_error_ = "TLS handshake or record failed (certificate, name or protocol)";
  } else if (error != 0) {
    *stream_error_ = std::generic_category().message(error);
  }
  stream_error_ = nullptr;
  resume(std::exchange(awaiter_, {}));
}

void CodeUser::disconnect() {
  if (stream_) stream_->close();
}

void CodeUser::record(std::string_view endpoint, std::chrono::nanoseconds latency, std::string_view error) {
  const size_t index = endpointIndex(endpoint);
  last_endpoint_ = index;
  const uint64_t sent = stream_ ? stream_->bytesSent() : 0;
  const uint64_t received = stream_ ? stream_->bytesReceived() : 0;
  const auto kind = error.empty() ? stats::ErrorKind::kNone : stats::ErrorKind::kException;
  const int32_t code = error.empty() ? 0 : stats::exceptionMessageId(error);
  owner_.worker().recorder().recordRequest(index, static_cast<uint64_t>(std::max<int64_t>(0, latency.count())),
                                           received - recorded_received_, sent - recorded_sent_, kind, code);
  recorded_sent_ = sent;
  recorded_received_ = received;
  exchange_recorded_ = stop_requested_;
}

}  // namespace herd::runtime
