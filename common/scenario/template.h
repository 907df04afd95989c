#pragma once
// Templates: "/users/{{user.index}}/cart?n={{random(1, 5)}}". Compiled once, when
// the scenario is compiled, into parts (plan.h); rendered per request by appending
// the parts to a buffer the caller reuses.
//
// Expressions:
//   {{user.index}}     the user's number, unique across the run
//   {{user.class}}     the user's class name
//   {{user.classIndex}} the user's number within its class (0, 1, ... across the run)
//   {{random(a, b)}}   a uniform integer in [a, b]; a and b are integers or params.NAME
//   {{params.NAME}}    a param, substituted at compile time
//   {{NAME}}           a user variable (set by a capture, `set` or `loop: over`),
//                      numbered at compile time; "" until it is first set
// Whitespace inside the braces is ignored. There is no escape for a literal "{{".
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/random.h"
#include "common/core/result.h"
#include "common/scenario/plan.h"

namespace herd::scenario {

// The error's message names the expression at fault; the caller adds the place
// (file:line:col and field path) because only it knows where the text came from.
// `variable` numbers a variable name (nullopt: variables are not allowed here).
using VariableIndex = std::function<std::optional<size_t>(std::string_view name)>;
Result<Template> compileTemplate(std::string_view text, const std::map<std::string, std::string>& params,
                                 const VariableIndex& variable = {});

struct RenderContext {
  int64_t user_index = 0;
  std::string_view user_class;
  herd::Rng& rng;
  const std::vector<std::string>* variables = nullptr;  // by Plan::variables index
  int64_t class_index = 0;
};

// Appends the rendered template to `out`. The hot path: it allocates nothing beyond
// the growth of `out` (which the caller keeps between requests).
void renderTemplate(const Template& tmpl, const RenderContext& context, std::string& out);

// Appends `text` escaped for `escape` (JSON string content, or percent-encoding of
// everything but RFC 3986 unreserved characters).
void appendEscaped(std::string& out, std::string_view text, TemplatePart::Escape escape);

// Composes a template from pieces: a URL and its query map, a JSON or form body.
// Adjacent literals are merged so rendering touches as few parts as possible.
class TemplateBuilder {
 public:
  void literal(std::string_view text);  // appended as is
  // Appends `tmpl`; its literals are escaped now and its run-time parts when rendered.
  void append(const Template& tmpl, TemplatePart::Escape escape = TemplatePart::Escape::kNone);
  void part(TemplatePart part);  // a run-time part
  Template build() && { return std::move(template_); }

 private:
  Template template_;
};

}  // namespace herd::scenario
