#pragma once
// The compiled scenario: immutable data that the engine walks. Everything a
// request needs at run time is resolved here once (params substituted, templates
// split into parts, URLs parsed, endpoint names numbered), so the hot path only
// appends strings and numbers. Built by compile() in compiler.h; never mutated
// after that.
#include <chrono>
#include <cstdint>
#include <map>
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
  enum class Kind { kLiteral, kUserIndex, kUserClass, kRandom };
  // How a value computed at run time is escaped for where the template sits: inside
  // a JSON string, in a query or form value, or as is. Literal parts are escaped
  // once at compile time, so this only matters for the other kinds.
  enum class Escape { kNone, kJson, kUrl };
  Kind kind = Kind::kLiteral;
  std::string literal;    // kLiteral
  int64_t low = 0;        // kRandom: inclusive bounds
  int64_t high = 0;
  Escape escape = Escape::kNone;
};

struct Template {
  std::vector<TemplatePart> parts;
  bool isLiteral() const { return parts.size() <= 1 && (parts.empty() || parts[0].kind == TemplatePart::Kind::kLiteral); }
};

// scheme://host:port, resolved to addresses before the run starts (never on the hot path).
struct Origin {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower-cased, IPv6 without brackets (used for Host, SNI, resolving)
  uint16_t port = 0;
  bool operator==(const Origin&) const = default;
  bool operator<(const Origin& o) const {
    return std::tie(scheme, host, port) < std::tie(o.scheme, o.host, o.port);
  }
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

struct RequestStep {
  std::string method;        // upper case: GET, POST, ...
  size_t origin = 0;         // index into Plan::origins
  Template path;             // path and query, starting with '/'
  std::vector<Header> headers;  // defaults merged in, step's own win
  std::optional<Template> body;
  std::string content_type;  // set for json/form bodies, empty otherwise or when
                             // `headers` already carries a Content-Type
  Duration timeout{};        // whole request, from send to last byte
  size_t endpoint = 0;       // index into Plan::endpoints
};

struct ThinkStep {
  enum class Kind { kFixed, kBetween, kPacing };
  Kind kind = Kind::kFixed;
  Duration min{};  // kFixed: the time; kBetween: lower bound; kPacing: the period
  Duration max{};  // kBetween: upper bound
};

using Step = std::variant<RequestStep, ThinkStep>;

struct Task {
  double weight = 1;
  std::vector<Step> steps;
};

struct UserClass {
  std::string name;
  double weight = 0;          // share of the users not taken by fixed counts
  std::optional<int64_t> count;  // a fixed number of users instead of a weight
  std::vector<Step> on_start;
  std::vector<Step> steps;    // one iteration; empty when tasks are used
  std::vector<Task> tasks;    // one weighted pick per iteration
};

struct Load {
  int64_t users = 1;
  double spawn_rate = 1;      // users per second
  Duration duration{};
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
  std::vector<Origin> origins;     // origins[0] is the target
  std::map<std::string, std::string> params;
  std::vector<UserClass> classes;
  Load load;
  std::vector<Endpoint> endpoints;
  std::vector<ThresholdSpec> thresholds;
};

}  // namespace herd::scenario
