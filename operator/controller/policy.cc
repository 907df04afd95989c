#include "operator/controller/policy.h"

#include <algorithm>

#include "common/k8s/resource.h"

namespace herd::controller {

namespace {

using scenario::Violation;

// One annotation read into the rule it sets; "none" lifts a limit.
template <typename T, typename Parse>
Status readLimit(const json& annotations, const char* key, std::optional<T>& limit, Parse parse) {
  if (!annotations.contains(key)) return Ok{};
  const auto text = k8s::getString(annotations, key);
  if (text == "none") {
    limit.reset();
    return Ok{};
  }
  auto value = parse(text);
  if (!value.ok()) return Error{value.error().message, std::string("namespace annotation ") + key};
  limit = *value;
  return Ok{};
}

Status readBool(const json& annotations, const char* key, bool& allow) {
  if (!annotations.contains(key)) return Ok{};
  const auto text = k8s::getString(annotations, key);
  if (text != "true" && text != "false")
    return Error{"expected true or false, got \"" + text + "\"", std::string("namespace annotation ") + key};
  allow = text == "true";
  return Ok{};
}

void readList(const json& annotations, const char* key, std::vector<std::string>& list) {
  if (annotations.contains(key)) list = scenario::splitList(k8s::getString(annotations, key));
}

// The annotation that sets each rule (Violation::rule names the rule).
const std::vector<std::pair<std::string, const char*>>& ruleAnnotations() {
  static const std::vector<std::pair<std::string, const char*>> rules{
      {"maxUsers", kAnnotationMaxUsers},
      {"maxAgents", kAnnotationMaxAgents},
      {"maxDuration", kAnnotationMaxDuration},
      {"maxRate", kAnnotationMaxRate},
      {"allowedHosts", kAnnotationAllowedHosts},
      {"allowedImages", kAnnotationAllowedImages},
      {"allowServiceAccount", kAnnotationAllowServiceAccount},
      {"allowPriorityClass", kAnnotationAllowPriorityClass},
      {"allowSecretEnv", kAnnotationAllowSecretEnv}};
  return rules;
}

std::optional<Violation> checkTemplate(const Guardrails& g, const json& tmpl) {
  const auto image = k8s::getString(tmpl, "image");
  if (!image.empty() && !g.allowed_images.empty() &&
      std::none_of(g.allowed_images.begin(), g.allowed_images.end(),
                   [&](const std::string& prefix) { return image.rfind(prefix, 0) == 0; })) {
    std::string limit;
    for (const auto& prefix : g.allowed_images) limit += (limit.empty() ? "" : ", ") + prefix + "*";
    return Violation{"allowedImages", "spec.agentTemplate.image " + image, "[" + limit + "]"};
  }
  const auto account = k8s::getString(tmpl, "serviceAccountName");
  if (!account.empty() && !g.allow_service_account)
    return Violation{"allowServiceAccount", "spec.agentTemplate.serviceAccountName " + account, ""};
  const auto priority = k8s::getString(tmpl, "priorityClassName");
  if (!priority.empty() && !g.allow_priority_class)
    return Violation{"allowPriorityClass", "spec.agentTemplate.priorityClassName " + priority, ""};
  const json& env = tmpl.contains("env") && tmpl["env"].is_array() ? tmpl["env"] : json::array();
  for (size_t i = 0; i < env.size() && !g.allow_secret_env; ++i) {
    if (!k8s::getObject(k8s::getObject(env[i], "valueFrom"), "secretKeyRef").empty())
      return Violation{
          "allowSecretEnv",
          "spec.agentTemplate.env[" + std::to_string(i) + "] " + k8s::getString(env[i], "name") + " from a Secret", ""};
  }
  return std::nullopt;
}

}  // namespace

Result<Guardrails> namespaceGuardrails(const Guardrails& operator_wide, const json& ns) {
  Guardrails g = operator_wide;
  const json& annotations = k8s::getObject(k8s::getObject(ns, "metadata"), "annotations");
  auto duration = [](const std::string& text) { return scenario::parseDuration(text); };
  for (auto status : {readLimit(annotations, kAnnotationMaxUsers, g.limits.max_users, scenario::parseLimitCount),
                      readLimit(annotations, kAnnotationMaxAgents, g.limits.max_agents, scenario::parseLimitCount),
                      readLimit(annotations, kAnnotationMaxDuration, g.limits.max_duration, duration),
                      readLimit(annotations, kAnnotationMaxRate, g.limits.max_rate, scenario::parseLimitRate),
                      readBool(annotations, kAnnotationAllowServiceAccount, g.allow_service_account),
                      readBool(annotations, kAnnotationAllowPriorityClass, g.allow_priority_class),
                      readBool(annotations, kAnnotationAllowSecretEnv, g.allow_secret_env)})
    if (!status.ok()) return status.error();
  readList(annotations, kAnnotationAllowedHosts, g.limits.allowed_hosts);
  readList(annotations, kAnnotationAllowedImages, g.allowed_images);
  for (const auto& [rule, key] : ruleAnnotations())
    if (annotations.contains(key)) g.set_by[rule] = std::string("namespace annotation ") + key;
  return g;
}

namespace {
std::string withSource(const Guardrails& guardrails, const Violation& violation) {
  auto it = guardrails.set_by.find(violation.rule);
  return violation.describe() + "; set by " +
         (it != guardrails.set_by.end() ? it->second : std::string("the operator's guardrails"));
}
}  // namespace

std::string agentLimitMessage(const Guardrails& guardrails, int agents) {
  return withSource(guardrails, Violation{"maxAgents", std::to_string(agents) + " agents",
                                          std::to_string(guardrails.limits.max_agents.value_or(0)) + " agents"});
}

std::optional<std::string> checkLoadTest(const Guardrails& guardrails, const LoadTestSpec& spec,
                                         const scenario::CompiledRun& run, int agents) {
  auto violation = checkTemplate(guardrails, spec.agent_template);
  if (!violation) violation = scenario::checkRun(run, agents, guardrails.limits);
  if (!violation) return std::nullopt;
  return withSource(guardrails, *violation);
}

}  // namespace herd::controller
