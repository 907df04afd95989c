#pragma once
// The compiled scenario: immutable data that the engine walks. Everything a
// request needs at run time is resolved here once (params substituted, templates
// split into parts, URLs parsed, endpoint names numbered), so the hot path only
// appends strings and numbers. Built by compile() in compiler.h; never mutated
// after that.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

namespace herd::scenario {

using Duration = std::chrono::nanoseconds;

// A template such as "/products?page={{random(1, 50)}}&u={{user.index}}", split into
// parts when compiled. Params ({{params.x}}) are substituted at compile time and
// become literals. A new expression (a captured variable, a feeder column) is a new
// Kind plus the fields it needs, one case in renderTemplate() and one branch in the
// expression parser (template.cc); nothing else changes.
struct TemplatePart {
  enum class Kind { kLiteral, kUserIndex, kUserClass, kRandom, kVariable, kClassIndex };
  // How a value computed at run time is escaped for where the template sits: inside
  // a JSON string, in a query or form value, or as is. Literal parts are escaped
  // once at compile time, so this only matters for the other kinds. kPath
  // percent-encodes what cannot stand in a request target (controls, space, '#',
  // non-ASCII); kHeader drops control characters so a value cannot end the line.
  enum class Escape { kNone, kJson, kUrl, kPath, kHeader };
  Kind kind = Kind::kLiteral;
  std::string literal;  // kLiteral
  int64_t low = 0;      // kRandom: inclusive bounds
  int64_t high = 0;
  size_t variable = 0;  // kVariable: index into Plan::variables
  Escape escape = Escape::kNone;
};

struct Template {
  std::vector<TemplatePart> parts;
  bool isLiteral() const {
    return parts.size() <= 1 && (parts.empty() || parts[0].kind == TemplatePart::Kind::kLiteral);
  }
};

// scheme://host:port, resolved to addresses before the run starts (never on the hot path).
struct Origin {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower-cased, IPv6 without brackets (used for Host, SNI, resolving)
  uint16_t port = 0;
  bool operator==(const Origin&) const = default;
  bool operator<(const Origin& o) const { return std::tie(scheme, host, port) < std::tie(o.scheme, o.host, o.port); }
  std::string hostHeader() const;  // "host" or "host:port" when the port is not the scheme's default
  std::string toString() const;    // "http://host:port", the port always written
};

struct Header {
  std::string name;
  Template value;
};

// One named group of requests in the stats ("login", "/products?page=[n]").
struct Endpoint {
  std::string name;
  std::string method;
};

// A check on a response; one that does not hold makes the request a failure of
// kind `check` (counted once, with the first check that failed).
struct Check {
  enum class Kind { kStatus, kHeader, kBodyContains, kJsonPath };
  Kind kind = Kind::kStatus;
  std::vector<int> statuses;         // kStatus: any of these
  std::string name;                  // kHeader: header name; kJsonPath: the path as written
  std::string pointer;               // kJsonPath: the path as a JSON pointer ("/a/0/b")
  std::optional<Template> expected;  // kHeader/kJsonPath: equals this; absent: exists
  Template text;                     // kBodyContains
  size_t id = 0;                     // index into Plan::checks (names it in the errors list)
};

// A value taken from a response into a user variable.
struct Capture {
  enum class Kind { kJsonPath, kRegex, kHeader, kCookie };
  Kind kind = Kind::kJsonPath;
  size_t variable = 0;  // index into Plan::variables
  std::string source;   // kJsonPath: JSON pointer; kRegex: the pattern; kHeader/kCookie: the name
  int group = 0;        // kRegex: the capture group (0: the whole match)
  size_t regex = 0;     // kRegex: index into Plan::regexes
};

// Which failures a request retries (bits), how often and how long it waits:
// attempt n (1-based) waits uniform[0, min(max, base * 2^(n-1))] ("full jitter").
struct RetryPolicy {
  static constexpr uint8_t kConnect = 1, kTimeout = 2, k5xx = 4, k429 = 8;
  uint8_t on = 0;
  int attempts = 1;  // total attempts including the first
  Duration base{};
  Duration max{};
};

// A publish or subscribe request of a pub/sub stream (delivery tracking).
struct Delivery {
  enum class Kind { kPublish, kSubscribe };
  // subscribe: one message per response, one endless response, an event
  // stream (text/event-stream), or a WebSocket whose messages carry markers.
  // publish: a POST, or a message on a WebSocket (kWebSocket).
  enum class Mode { kLongPoll, kStream, kSse, kWebSocket };
  Kind kind = Kind::kPublish;
  Mode mode = Mode::kLongPoll;
  size_t stream = 0;             // index into Plan::streams
  Template topic;                // publish: the topic the message goes to
  std::vector<Template> topics;  // subscribe: the topics it follows (cohort: one template)
  int64_t cohort = 0;            // subscribe: follow members [i·K, i·K+K) of the publishers (0: off)
  size_t member_variable = 0;    // cohort: the variable {{member}} in the topic template
  size_t topics_variable = 0;    // subscribe: {{topics}}, the topics joined with ','
};

// The HTTP version a request asks for (`http:`); "2" falls back to HTTP/1.1
// over TLS when the server does not offer h2 in ALPN.
enum class HttpVersion : uint8_t { kHttp1, kHttp2 };
struct Block;      // a list of steps; defined below (steps nest)
class GrpcMethod;  // grpc.h

struct RequestStep {
  std::string method;           // upper case: GET, POST, ...
  size_t origin = 0;            // index into Plan::origins
  Template path;                // path and query, starting with '/'
  std::vector<Header> headers;  // defaults merged in, step's own win
  std::optional<Template> body;
  std::string content_type;  // set for json/form bodies, empty otherwise or when
                             // `headers` already carries a Content-Type
  Duration timeout{};        // whole request, from send to last byte
  size_t endpoint = 0;       // index into Plan::endpoints
  std::vector<Check> checks;
  std::vector<Capture> captures;
  std::optional<RetryPolicy> retry;
  std::optional<Delivery> delivery;
  // A `websocket:` step (kOpen: `socket_steps` run while it is open) or one of
  // the steps inside it, which act on that socket: `body` is what kSend sends,
  // `timeout` bounds the wait of kReceive, kPing and kClose, checks and captures
  // of a kReceive read the message as a response body.
  enum class SocketOp : uint8_t { kNone, kOpen, kSend, kSendBinary, kReceive, kPing, kClose };
  SocketOp socket_op = SocketOp::kNone;
  std::shared_ptr<const Block> socket_steps;
  bool needs_body = false;     // a check or capture reads the body
  bool needs_headers = false;  // a check or capture reads the headers
  HttpVersion http = HttpVersion::kHttp1;
  // A `grpc:` step: a POST over HTTP/2 to grpc->path(). `body` is the framed
  // request message, or (grpc_json_body) its JSON, converted on every call.
  // grpc_decode: a check or capture reads the response as JSON.
  std::shared_ptr<const GrpcMethod> grpc;
  bool grpc_json_body = false;
  bool grpc_decode = false;
};

struct ThinkStep {
  enum class Kind { kFixed, kBetween, kPacing };
  Kind kind = Kind::kFixed;
  Duration min{};  // kFixed: the time; kBetween: lower bound; kPacing: the period
  Duration max{};  // kBetween: upper bound
};

// A yes/no question a step asks at run time (if, loop while).
struct Condition {
  enum class Kind { kChance, kEquals, kNotEquals, kSet, kNotSet };
  Kind kind = Kind::kChance;
  double chance = 0;  // kChance: probability in [0, 1]
  Template left;      // kEquals/kNotEquals
  Template right;
  size_t variable = 0;  // kSet/kNotSet: set means non-empty
};

struct LoopStep {
  enum class Kind { kCount, kWhile, kForever, kOver };
  Kind kind = Kind::kCount;
  int64_t count = 0;            // kCount
  Condition condition;          // kWhile: checked before each round
  std::vector<Template> items;  // kOver: each rendered into `variable` in turn
  size_t variable = 0;          // kOver
  std::shared_ptr<const Block> body;
};

struct IfStep {
  Condition condition;
  std::shared_ptr<const Block> then_steps;
  std::shared_ptr<const Block> else_steps;  // may be empty
};

// Branches that run at the same time inside one user, each with its own
// connections; the step ends when every branch has ended (a branch with
// `loop: forever` lives as long as the user).
struct ParallelStep {
  std::vector<std::shared_ptr<const Block>> branches;
};

struct SetStep {
  std::vector<std::pair<size_t, Template>> assignments;  // variable index, value
};

// Ends the user (its onStop runs); the run goes on with the others.
struct StopUserStep {};

// Takes the next row of a data source into the user's variables NAME.COLUMN.
struct FeedStep {
  size_t source = 0;  // index into Plan::data
};

using Step = std::variant<RequestStep, ThinkStep, LoopStep, IfStep, ParallelStep, SetStep, StopUserStep, FeedStep>;

struct Block {
  std::vector<Step> steps;
};

struct Task {
  double weight = 1;
  std::vector<Step> steps;
};

// A user class written in C++ (`code: {library, class}`), run by the engine as
// coroutines (docs/compiled-scenarios.md). compile() records where it is;
// bindCode() (code_library.h) loads the library, checks it, and appends the
// endpoints and checks the class declares to the plan.
struct CodeClass {
  std::string library;        // the file as the scenario wrote it (resolved params)
  std::string path;           // absolute or relative to the working directory: what dlopen gets
  std::string class_name;     // as the library registers it
  std::string place;          // "FILE:LINE:COL" of `code:`, for errors about the class
  std::string field;          // its field path, "users[1].code"
  std::string pinned_sha256;  // `sha256:` (lower-case hex): the only library file allowed; empty: any
  struct NamedOrigin {
    std::string url;    // as the scenario wrote it (resolved params), what herd::Request::origin names
    size_t origin = 0;  // index into Plan::origins
  };
  std::vector<NamedOrigin> origins;        // `origins:`, besides the target
  HttpVersion http = HttpVersion::kHttp1;  // defaults.http: a request's Http::kDefault
  // Set by bindCode():
  std::string sha256;                          // of the library file, lower-case hex
  const void* entry = nullptr;                 // the library's herd::ClassEntry; lives as long as `library_handle`
  std::shared_ptr<const void> library_handle;  // keeps the library loaded while a plan uses it
  size_t first_endpoint = 0;                   // the class's endpoints are Plan::endpoints[first_endpoint...]
  size_t first_check = 0;                      // its checks are Plan::checks[first_check...]
};

struct UserClass {
  std::string name;
  double weight = 0;             // share of the users not taken by fixed counts
  std::optional<int64_t> count;  // a fixed number of users instead of a weight
  std::vector<Step> on_start;
  std::vector<Step> on_stop;      // after the user's steps end (test stopping or stopUser)
  std::vector<Step> steps;        // one iteration; empty when tasks are used
  std::vector<Task> tasks;        // one weighted pick per iteration
  std::optional<CodeClass> code;  // a C++ class instead of steps
};

// One stage of a load shape: over `duration`, the target moves linearly from the
// previous stage's end value to `target` (users in the closed model, iterations
// per second in the open model). A zero duration is a jump.
struct Stage {
  Duration duration{};
  double target = 0;
};

struct Load {
  // Closed: a number of users loop over their steps (users/spawnRate/duration, or
  // stages, or step doubling compiled into stages). Open: iterations start at an
  // arrival rate whatever the responses do, on at most max_users users.
  // users, spawn_rate and duration come first so {users, rate, duration} still
  // initialises the simple model.
  enum class Model { kClosed, kOpen };
  int64_t users = 1;      // closed: the peak number of users; open: max_users
  double spawn_rate = 1;  // users per second (closed, without stages)
  Duration duration{};    // the whole run
  Model model = Model::kClosed;
  std::vector<Stage> stages;  // closed: user targets; open: rates; empty: users/spawnRate/duration
  double start_rate = 0;      // open: the rate the first stage starts from
  int64_t max_users = 0;      // open
};

// A CSV file read when the scenario is compiled. `unique` hands each row out once
// in the whole run: rows are dealt to agents (shard_index of shard_count) and
// within an agent to worker threads, so no two users anywhere share one; a user
// that finds its share used up stops. `cycle` goes round the rows, `random`
// picks any row each time.
struct DataSource {
  enum class Pick { kUnique, kCycle, kRandom };
  std::string name;
  Pick pick = Pick::kCycle;
  std::vector<std::string> columns;
  std::vector<size_t> column_variables;  // Plan::variables index of NAME.COLUMN, by column
  std::vector<std::vector<std::string>> rows;
};

// One entry of `thresholds:`: a string, or {expression, abortOnFail, delay}.
// The expression is parsed by common/report.
struct ThresholdSpec {
  std::string expression;
  bool abort_on_fail = false;  // a failure seen while the run goes ends it early
  Duration delay{};            // no early abort before this much of the run has passed
  bool operator==(const ThresholdSpec&) const = default;
};

struct Plan {
  std::string name;
  std::string source_file;
  std::vector<Origin> origins;  // origins[0] is the target
  std::map<std::string, std::string> params;
  std::vector<UserClass> classes;
  Load load;
  std::vector<Endpoint> endpoints;
  std::vector<std::string> variables;  // per-user variables by index (captures, set, loop over)
  std::vector<std::string> checks;     // each check described, by Check::id
  std::vector<std::string> regexes;    // capture patterns (RE2 syntax), compiled once per worker
  bool cookies = true;                 // a cookie jar per user (defaults.cookies)
  uint32_t http2_streams = 100;        // streams per HTTP/2 connection (defaults.streamsPerConnection)
  std::vector<DataSource> data;
  std::vector<std::string> streams;                // pub/sub streams by name, in order of first use
  Duration lost_after = std::chrono::seconds(10);  // delivery.lostAfter
  std::optional<Duration> stop_grace;              // stop.grace (else the command line's)
  Duration drain{};                                // stop.drain: subscribers keep listening after the stop
  // This agent's share of `unique` data (CompileOptions; the coordinator sets it).
  int64_t shard_index = 0;
  int64_t shard_count = 1;
  std::vector<ThresholdSpec> thresholds;
  // "FILE:LINE:COL" of `load:` (of the file when it has none): where a run-level
  // rule about the load (run.h) points, as every compile error does.
  std::string load_place;
};

}  // namespace herd::scenario
