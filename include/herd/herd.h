#pragma once
// herd's C++ scenario API: user classes written in C++20, run by the same engine
// as YAML users (docs/compiled-scenarios.md).
//
// A user class is a set of coroutines over a herd::User, the context herd gives
// each virtual user. Every wait (a response, a think time) is a co_await: the
// coroutine suspends, the worker thread goes on with other users, and the
// engine resumes it from its event loop when the response or the timer is due.
// Nothing here blocks a thread; user code must not block either (no sleep(),
// no blocking socket, no lock held across a co_await).
//
// This header is the whole surface between herd and a scenario library. It
// names no herd internals: herd::User is an interface herd implements.
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "herd/version.h"

namespace herd {

// A coroutine that returns nothing: what onStart, iteration and onStop are, and
// what a helper of the class returns so that the caller can co_await it. It
// starts when awaited (or when herd runs it) and rethrows to its awaiter an
// exception it did not catch.
class [[nodiscard]] Task {
 public:
  struct promise_type {
    std::coroutine_handle<> continuation;  // the awaiting coroutine; null for one herd runs
    std::exception_ptr exception;

    Task get_return_object() { return Task(std::coroutine_handle<promise_type>::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct FinalAwaiter {
      bool await_ready() noexcept { return false; }
      // Symmetric transfer: the awaiter resumes without growing the stack.
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> self) noexcept {
        const auto next = self.promise().continuation;
        return next ? next : std::noop_coroutine();
      }
      void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { exception = std::current_exception(); }
  };

  Task() = default;
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  // co_await task: runs it to its end, then goes on here (or throws what it threw).
  bool await_ready() const noexcept { return !handle_ || handle_.done(); }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) noexcept {
    handle_.promise().continuation = awaiter;
    return handle_;
  }
  void await_resume() const {
    if (handle_ && handle_.promise().exception) std::rethrow_exception(handle_.promise().exception);
  }

  // For herd: the coroutine it resumes first and whose end it watches.
  std::coroutine_handle<promise_type> handle() const noexcept { return handle_; }

 private:
  explicit Task(std::coroutine_handle<promise_type> handle) : handle_(handle) {}
  std::coroutine_handle<promise_type> handle_;
};

struct Header {
  std::string name;
  std::string value;
};

// Which HTTP version a request goes over. kDefault is the scenario's
// `defaults: {http: ...}` (HTTP/1.1 when it says nothing), as for YAML requests.
enum class Http : uint8_t { kDefault, kHttp1, kHttp2 };

// One HTTP request to the run's target (the scenario's `target:`, or --target)
// or to one of the class's declared origins: `path` is the path and query,
// starting with '/'. `endpoint` names the line of the stats the request counts
// in; it must be one the class declared.
struct Request {
  std::string method = "GET";
  std::string path = "/";
  std::string endpoint;
  // "" for the target, else an origin ("https://api.example:8443") that the
  // class's `code: {origins: [...]}` declares: resolved before the run.
  std::string origin;
  Http http = Http::kDefault;
  std::vector<Header> headers;  // Host, User-Agent and Content-Length are added
  std::string body;             // sent when not empty, or when the method is POST, PUT or PATCH
  std::chrono::milliseconds timeout{30'000};
  bool read_body = true;     // keep the body for Response::body
  bool read_headers = true;  // keep the header fields for Response::headers
};

struct Response {
  int status = 0;       // 0 when no status line arrived
  std::string error;    // empty when the exchange completed; else what went wrong ("connection refused")
  std::string body;     // decoded (chunked framing removed)
  std::string headers;  // "Name: value\n" per field, as received
  std::chrono::nanoseconds latency{};
  int http_version = 1;  // 1 (HTTP/1.1) or 2 (HTTP/2): what carried the request

  // The exchange completed with a status below 400.
  bool ok() const { return error.empty() && status > 0 && status < 400; }
  // The first field named `name` (case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
};

// A value to take out of a response, the way a YAML capture does
// (docs/scenario.md, "Captures"), evaluated by the same code.
struct Capture {
  enum class Kind : uint8_t { kJsonPath, kRegex, kHeader };
  Kind kind = Kind::kJsonPath;
  std::string source;  // the JSONPath ("$.user.id"), the RE2 pattern, or the header's name
  int group = -1;      // kRegex: the group (0: the whole match; -1: the first group if any, else 0)

  static Capture jsonPath(std::string path) { return {Kind::kJsonPath, std::move(path), -1}; }
  static Capture regex(std::string pattern, int group = -1) { return {Kind::kRegex, std::move(pattern), group}; }
  static Capture header(std::string name) { return {Kind::kHeader, std::move(name), -1}; }
};

// How user.connect() reaches its peer.
//
// Trivially destructible on purpose: GCC 12 destroys a temporary argument of a
// call inside a co_await expression twice (`co_await user.connect(port,
// {.tls = true})`), which is harmless only for such a type. herd reads the
// origin's text when the connect starts.
struct ConnectOptions {
  // "" for the target's host, else an origin the class's `code: {origins: [...]}`
  // declares (its host and, when the port is 0, its port).
  std::string_view origin;
  // TLS over the connection (SNI and verification as for the run's HTTPS:
  // --insecure, --ca-file), handshake done before connect() resumes.
  bool tls = false;
};

class User;

// co_await user.connect(...), write(...), read(): "" when done, else what went
// wrong ("connection refused", "connection reset by peer").
class IoAwaiter {
 public:
  enum class Op : uint8_t { kConnect, kWrite, kRead };
  IoAwaiter(User& user, Op op, uint16_t port, std::string bytes, ConnectOptions options = {})
      : user_(user), op_(op), port_(port), bytes_(std::move(bytes)), options_(options) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> awaiter);
  std::string await_resume() { return std::move(error_); }

 private:
  User& user_;
  Op op_;
  uint16_t port_;
  std::string bytes_;
  ConnectOptions options_;
  std::string error_;
};

// co_await user.request(...): the Response once it arrived (or failed).
class RequestAwaiter {
 public:
  RequestAwaiter(User& user, Request request) : user_(user), request_(std::move(request)) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> awaiter);
  Response await_resume() { return std::move(response_); }

 private:
  User& user_;
  Request request_;
  Response response_;
};

// co_await user.sleep(d): resumes on the event loop after `d`.
class SleepAwaiter {
 public:
  SleepAwaiter(User& user, std::chrono::nanoseconds duration) : user_(user), duration_(duration) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> awaiter);
  void await_resume() const noexcept {}

 private:
  User& user_;
  std::chrono::nanoseconds duration_;
};

// What a WebSocket call ends with (user.wsConnect, wsSend, wsReceive, wsClose).
struct SocketResult {
  // "" when done, else what went wrong ("timed out", "connection reset by
  // peer", a refused upgrade's status): the same text as the errors table's.
  std::string error;
  std::string message;  // wsReceive: the message received (text or binary)
};

// One WebSocket call, as herd receives it.
struct SocketCall {
  enum class Op : uint8_t { kConnect, kSend, kSendBinary, kReceive, kClose };
  Op op = Op::kSend;
  std::string text;      // kConnect: the path and query; kSend*: the message
  std::string endpoint;  // declared by the class
  std::chrono::milliseconds timeout{30'000};
  std::string origin;  // kConnect: as Request::origin
};

// co_await user.wsConnect(...), wsSend(...), wsReceive(...), wsClose(...).
// A send, or a receive whose message already came, goes on at once.
class SocketAwaiter {
 public:
  SocketAwaiter(User& user, SocketCall call) : user_(user), call_(std::move(call)) {}
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> awaiter);
  SocketResult await_resume() { return std::move(result_); }

 private:
  User& user_;
  SocketCall call_;
  SocketResult result_;
};

// The context of one virtual user, implemented by herd. Valid while the user's
// coroutines run; used from the worker thread that runs them only.
class User {
 public:
  // The user's number in the run (0..users-1), and within its class.
  virtual int64_t index() const = 0;
  virtual int64_t classIndex() const = 0;
  virtual std::string_view className() const = 0;
  // The run's params (`params:`, overridden by -p name=value); null when unset.
  virtual const std::string* param(std::string_view name) const = 0;
  // This user's variables, kept across its iterations ("" until set).
  virtual std::string& variable(std::string_view name) = 0;
  // Uniform in [0, 1), from the worker's generator (seeded per run).
  virtual double random() = 0;

  // Judges the last response: a check that does not hold makes that request
  // count as failed (kind `check`, the first failing check named in the errors
  // table), as a YAML check does. `name` must be one the class declared.
  // Returns `holds`.
  virtual bool check(bool holds, std::string_view name) = 0;

  // The value `capture` finds in `response` (a string unescaped, another JSON
  // value as its text; a regex group; a header field), or nullopt when it finds
  // nothing (a YAML capture then sets its variable to ""). A pattern or path
  // that does not compile throws std::invalid_argument; patterns are compiled
  // once per worker thread.
  virtual std::optional<std::string> capture(const Response& response, const Capture& capture) = 0;

  // Takes the next row of the scenario's data source `source` (its `data:`
  // section) into this user's variables "SOURCE.COLUMN", as a YAML `feed` step
  // does, with the source's pick (unique, cycle, random). Returns false when a
  // unique source is used up: then the user stops (its next wait ends the
  // coroutine; onStop runs), as in YAML. An unknown source throws.
  virtual bool feed(std::string_view source) = 0;

  // Pub/sub with delivery tracking (docs/scenario.md, "Publish/subscribe"),
  // over whatever carries the messages (an HTTP request, a WebSocket, the raw
  // connection): herd matches what was published with what each subscriber
  // received and reports, per stream, published, delivered, lost, duplicates
  // and the latency from publish to delivery, as for YAML publish and
  // subscribe steps (the `delivery` section of summary.json). `stream` is one
  // the class declares (ClassEntry::streams); another throws.
  //
  // A new message's marker ("~herd:PUBLISHER:NUMBER:MICROS~", stamped with the
  // wall clock now): put it in the message's text. Each call is a new message.
  virtual std::string newMessage() = 0;
  // The server accepted the message carrying `marker` for `topic`: it counts
  // as published (and as lost unless delivered to each subscriber of `topic`).
  virtual void published(std::string_view stream, std::string_view topic, std::string_view marker) = 0;
  // This user follows `topics` of `stream` from now on (call it once the
  // subscription is in place, before the messages it expects are published).
  virtual void subscribed(std::string_view stream, const std::vector<std::string>& topics) = 0;
  // The whole markers in `text` (a message received) are delivered to this
  // user now; returns how many it found.
  virtual size_t delivered(std::string_view stream, std::string_view text) = 0;

  RequestAwaiter request(Request request) { return RequestAwaiter(*this, std::move(request)); }
  RequestAwaiter get(std::string path, std::string endpoint) {
    Request r;
    r.path = std::move(path);
    r.endpoint = std::move(endpoint);
    return request(std::move(r));
  }
  SleepAwaiter sleep(std::chrono::nanoseconds duration) { return SleepAwaiter(*this, duration); }

  // A raw TCP connection of this user, for a protocol herd does not speak: to
  // the run's target host (or options.origin's; its address resolved before the
  // run) at `port`, or at that origin's own port when 0; over TLS when
  // options.tls. One per user; connect() again replaces it.
  IoAwaiter connect(uint16_t port = 0, ConnectOptions options = {}) {
    return IoAwaiter(*this, IoAwaiter::Op::kConnect, port, {}, options);
  }
  // Writes all of `bytes`.
  IoAwaiter write(std::string bytes) { return IoAwaiter(*this, IoAwaiter::Op::kWrite, 0, std::move(bytes)); }
  // Waits for bytes and appends them to received(); a peer that closed is an error.
  IoAwaiter read() { return IoAwaiter(*this, IoAwaiter::Op::kRead, 0, {}); }
  // What read() received and the class has not erased yet.
  virtual std::string& received() = 0;
  virtual void disconnect() = 0;
  // Counts one exchange over the raw connection like a request of `endpoint`
  // (declared by the class): its latency, the bytes the connection moved since
  // the last record(), and a failure when `error` is not empty (kind
  // `exception`, the text as its message).
  virtual void record(std::string_view endpoint, std::chrono::nanoseconds latency, std::string_view error = {}) = 0;

  // A WebSocket of this user (ws:// over the target's or `origin`'s http://,
  // wss:// over https://), through the engine's WebSocket client, counted as
  // YAML websocket steps are. One per user: it stays open across iterations
  // until wsClose(), the server's close, or another wsConnect() (which drops
  // the previous one). Each call counts one request of `endpoint`, which the
  // class declares with the method the YAML steps show ("WS chat", "SEND
  // chat", "RECEIVE reply", "CLOSE chat"):
  // - wsConnect: the opening handshake's latency (a status other than 101 fails);
  // - wsSend: the message's bytes, no latency (it does not wait);
  // - wsReceive: the next message (one that came while nobody waited is kept,
  //   in order, up to 1024), or a `timeout` failure; its latency counts from
  //   the last send or receive, so an exchange measures the server's answer;
  // - wsClose: the close handshake (no request when the socket is not open).
  // user.check() after a wsReceive judges that message, as a YAML check does.
  SocketAwaiter wsConnect(std::string path, std::string endpoint,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000),
                          std::string origin = {}) {
    return SocketAwaiter(
        *this, SocketCall{SocketCall::Op::kConnect, std::move(path), std::move(endpoint), timeout, std::move(origin)});
  }
  SocketAwaiter wsSend(std::string message, std::string endpoint) {
    return SocketAwaiter(*this, SocketCall{SocketCall::Op::kSend, std::move(message), std::move(endpoint), {}, {}});
  }
  SocketAwaiter wsSendBinary(std::string message, std::string endpoint) {
    return SocketAwaiter(*this,
                         SocketCall{SocketCall::Op::kSendBinary, std::move(message), std::move(endpoint), {}, {}});
  }
  SocketAwaiter wsReceive(std::string endpoint, std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000)) {
    return SocketAwaiter(*this, SocketCall{SocketCall::Op::kReceive, {}, std::move(endpoint), timeout, {}});
  }
  SocketAwaiter wsClose(std::string endpoint, std::chrono::milliseconds timeout = std::chrono::milliseconds(5'000)) {
    return SocketAwaiter(*this, SocketCall{SocketCall::Op::kClose, {}, std::move(endpoint), timeout, {}});
  }

 protected:
  virtual ~User() = default;

 private:
  friend class RequestAwaiter;
  friend class SleepAwaiter;
  friend class IoAwaiter;
  friend class SocketAwaiter;
  // Starts the exchange and returns at once; herd fills `into` and resumes
  // `awaiter` from its event loop (never from inside this call).
  virtual void startRequest(const Request& request, Response& into, std::coroutine_handle<> awaiter) = 0;
  virtual void startSleep(std::chrono::nanoseconds duration, std::coroutine_handle<> awaiter) = 0;
  virtual void startIo(IoAwaiter::Op op, uint16_t port, const ConnectOptions& options, std::string& bytes,
                       std::string& error, std::coroutine_handle<> awaiter) = 0;
  // Returns false when the call is over already (`into` filled; the coroutine
  // goes on at once), true when herd resumes `awaiter` from its event loop.
  virtual bool startSocket(const SocketCall& call, SocketResult& into, std::coroutine_handle<> awaiter) = 0;
};

inline void RequestAwaiter::await_suspend(std::coroutine_handle<> awaiter) {
  user_.startRequest(request_, response_, awaiter);
}
inline void SleepAwaiter::await_suspend(std::coroutine_handle<> awaiter) { user_.startSleep(duration_, awaiter); }
inline void IoAwaiter::await_suspend(std::coroutine_handle<> awaiter) {
  user_.startIo(op_, port_, options_, bytes_, error_, awaiter);
}

inline bool SocketAwaiter::await_suspend(std::coroutine_handle<> awaiter) {
  return user_.startSocket(call_, result_, awaiter);
}

inline std::string_view Response::header(std::string_view name) const {
  std::string_view rest = headers;
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    const size_t colon = line.find(':');
    if (colon != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < colon && same; ++i) same = lower(line[i]) == lower(name[i]);
    if (!same) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.remove_suffix(1);
    return value;
  }
  return {};
}

// A user class. herd makes one object per virtual user, runs onStart once,
// then iteration() over and over until the user stops, then onStop. An
// exception that leaves a coroutine ends that iteration as a failure (its
// message in the errors table); the user goes on with the next one.
class UserClass {
 public:
  virtual ~UserClass() = default;
  virtual Task onStart(User& /*user*/) { co_return; }
  virtual Task iteration(User& user) = 0;
  virtual Task onStop(User& /*user*/) { co_return; }
};

// One class of a library: its name in the scenario's `code: {class: ...}`, how
// to make an instance, and the endpoints and checks it names (declared up front
// so every agent numbers them alike and the stats list them before they occur).
struct ClassEntry {
  std::string name;
  std::unique_ptr<UserClass> (*create)() = nullptr;
  std::vector<std::string> endpoints;  // "METHOD name" or "name" (method shown as CODE)
  std::vector<std::string> checks;
  std::vector<std::string> streams;  // the pub/sub streams it publishes or subscribes on
};

// What a library's entry point returns. api_version comes first and stays
// first in every version, so herd reads it before trusting the rest.
struct ScenarioEntry {
  uint32_t api_version = 0;
  const char* fingerprint = nullptr;
  const std::vector<ClassEntry>* classes = nullptr;
};

template <class T>
ClassEntry userClass(std::string name, std::vector<std::string> endpoints, std::vector<std::string> checks = {},
                     std::vector<std::string> streams = {}) {
  return ClassEntry{std::move(name), [] { return std::unique_ptr<UserClass>(std::make_unique<T>()); },
                    std::move(endpoints), std::move(checks), std::move(streams)};
}

}  // namespace herd

// The entry point herd looks up with dlsym.
#define HERD_ENTRY_POINT "herd_scenario_v1"

// HERD_SCENARIO(herd::userClass<Buyer>("Buyer", {"GET catalog", "POST order"}, {"order accepted"}), ...)
// in one source file of the library defines its entry point.
#define HERD_SCENARIO(...)                                                                            \
  extern "C" __attribute__((visibility("default"))) const ::herd::ScenarioEntry* herd_scenario_v1() { \
    static const std::vector<::herd::ClassEntry> classes{__VA_ARGS__};                                \
    static const ::herd::ScenarioEntry entry{HERD_API_VERSION, HERD_BUILD_FINGERPRINT, &classes};     \
    return &entry;                                                                                    \
  }
