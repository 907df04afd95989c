#include "common/scenario/guardrails.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include "common/scenario/compiler.h"

namespace herd::scenario {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// '*' matches any run of characters (iterative, so a long pattern cannot blow the stack).
bool globMatches(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::optional<uint32_t> ipv4(const std::string& text) {
  in_addr addr{};
  if (::inet_pton(AF_INET, text.c_str(), &addr) != 1) return std::nullopt;
  return ntohl(addr.s_addr);
}

// "A.B.C.D/N": whether host is an IPv4 address inside the block.
std::optional<bool> cidrMatches(std::string_view pattern, const std::string& host) {
  const auto slash = pattern.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto base = ipv4(std::string(pattern.substr(0, slash)));
  int bits = -1;
  const std::string len(pattern.substr(slash + 1));
  char extra = 0;
  if (!base || std::sscanf(len.c_str(), "%d%c", &bits, &extra) != 1 || bits < 0 || bits > 32) return false;
  auto addr = ipv4(host);
  if (!addr) return false;
  const uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  return (*addr & mask) == (*base & mask);
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + "]";
}

std::optional<Violation> checkHosts(const Plan& plan, const std::vector<std::string>& allowed) {
  if (allowed.empty()) return std::nullopt;
  for (const auto& origin : plan.origins) {
    const bool ok = std::any_of(allowed.begin(), allowed.end(),
                                [&](const std::string& pattern) { return hostMatches(pattern, origin.host); });
    if (!ok) return Violation{"allowedHosts", "target " + origin.toString(), joined(allowed)};
  }
  return std::nullopt;
}

}  // namespace

bool hostMatches(std::string_view pattern, std::string_view host) {
  const auto p = lower(pattern);
  const auto h = lower(host);
  if (p.empty()) return false;
  if (auto cidr = cidrMatches(p, h)) return *cidr;
  return globMatches(p, h);
}

Result<int64_t> parseLimitCount(std::string_view text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1)
    return Error{"expected a whole number of at least 1, got \"" + std::string(text) + "\"", ""};
  return value;
}

Result<double> parseLimitRate(std::string_view text) {
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size() || !std::isfinite(value) || !(value > 0))
    return Error{"expected a number above 0 (per second), got \"" + copy + "\"", ""};
  return value;
}

Result<RunLimits> runLimits(const RunLimitFlags& flags) {
  RunLimits limits;
  if (flags.max_users > 0) limits.max_users = flags.max_users;
  if (flags.max_agents > 0) limits.max_agents = flags.max_agents;
  if (!flags.max_duration.empty()) {
    auto duration = parseDuration(flags.max_duration);
    if (!duration) return Error{duration.error().message, "--max-duration"};
    limits.max_duration = *duration;
  }
  if (flags.max_rate > 0) limits.max_rate = flags.max_rate;
  limits.allowed_hosts = flags.allow_hosts;
  return limits;
}

std::string_view runLimitFlag(std::string_view rule) {
  if (rule == "maxUsers") return "--max-users";
  if (rule == "maxAgents") return "--max-agents";
  if (rule == "maxDuration") return "--max-duration";
  if (rule == "maxRate") return "--max-rate";
  return "--allow-host";
}

std::vector<std::string> splitList(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    auto item = text.substr(start, comma - start);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    start = comma + 1;
  }
  return out;
}

double peakRate(const Plan& plan) {
  if (plan.load.model != Load::Model::kOpen) return 0;
  double peak = plan.load.start_rate;
  for (const auto& stage : plan.load.stages) peak = std::max(peak, stage.target);
  return peak;
}

std::optional<Violation> checkRun(const CompiledRun& run, int64_t agents, const RunLimits& limits) {
  if (limits.max_users && run.total_users > *limits.max_users)
    return Violation{"maxUsers", std::to_string(run.total_users) + " users",
                     std::to_string(*limits.max_users) + " users"};
  if (limits.max_agents && agents > *limits.max_agents)
    return Violation{"maxAgents", std::to_string(agents) + " agents", std::to_string(*limits.max_agents) + " agents"};
  if (limits.max_duration && run.plan.load.duration > *limits.max_duration)
    return Violation{"maxDuration", "duration " + formatDuration(run.plan.load.duration),
                     formatDuration(*limits.max_duration)};
  const double rate = peakRate(run.plan);
  if (limits.max_rate && rate > *limits.max_rate)
    return Violation{"maxRate", "arrival rate " + number(rate) + "/s", number(*limits.max_rate) + "/s"};
  return checkHosts(run.plan, limits.allowed_hosts);
}

}  // namespace herd::scenario
