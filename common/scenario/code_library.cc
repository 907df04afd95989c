#include "common/scenario/code_library.h"

#include <dlfcn.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <herd/herd.h>

#include "common/core/crypto.h"
#include "common/scenario/text.h"

namespace herd::scenario {

using detail::quote;

namespace {

struct Loaded {
  std::shared_ptr<void> handle;  // dlclose when the last plan using it is gone
  const ScenarioEntry* entry = nullptr;
  std::string sha256;
};

std::string buildOf(uint32_t api_version, const char* fingerprint) {
  return "API " + std::to_string(api_version) + ", " + (fingerprint != nullptr ? fingerprint : "no fingerprint");
}

Result<std::string> fileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read " + path, ""};
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return sha256Hex(bytes.str());
}

// One load per path and process: the coordinator and the local run's agent
// session compile the same scenario, and a library's static state must be one.
Result<Loaded> load(const CodeClass& code) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<void>> cache;
  auto sha = fileSha256(code.path);
  if (!sha) return Error{code.field + ".library: cannot read " + quote(code.library), code.place};
  // A pinned file is checked before dlopen runs any of its code.
  if (!code.pinned_sha256.empty() && *sha != code.pinned_sha256) {
    return Error{code.field + ".sha256: " + quote(code.library) + " has SHA-256 " + *sha + ", the scenario pins " +
                     code.pinned_sha256 + ": run the file it names",
                 code.place};
  }
  std::lock_guard lock(mutex);
  Loaded loaded;
  loaded.sha256 = *sha;
  loaded.handle = cache[code.path].lock();
  if (!loaded.handle) {
    // RTLD_LOCAL: two libraries may define classes of the same name.
    void* raw = dlopen(code.path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (raw == nullptr) {
      const char* why = dlerror();
      return Error{code.field + ".library: cannot load " + quote(code.library) + ": " + (why ? why : "dlopen failed"),
                   code.place};
    }
    loaded.handle = std::shared_ptr<void>(raw, [](void* h) { dlclose(h); });
    cache[code.path] = loaded.handle;
  }
  using EntryPoint = const ScenarioEntry* (*)();
  auto* symbol = reinterpret_cast<EntryPoint>(dlsym(loaded.handle.get(), HERD_ENTRY_POINT));
  if (symbol == nullptr) {
    return Error{code.field + ".library: " + quote(code.library) + " is not a herd scenario library (no " +
                     HERD_ENTRY_POINT + "; define one with HERD_SCENARIO(...))",
                 code.place};
  }
  loaded.entry = symbol();
  return loaded;
}

// The API version is read before anything else of the entry: a library built
// for another version may lay the rest out differently.
Status checkBuild(const CodeClass& code, const ScenarioEntry* entry) {
  if (entry == nullptr || entry->api_version != HERD_API_VERSION ||
      std::string_view(entry->fingerprint != nullptr ? entry->fingerprint : "") != HERD_BUILD_FINGERPRINT) {
    const std::string built = entry == nullptr ? "nothing" : buildOf(entry->api_version, entry->fingerprint);
    return Error{code.field + ".library: " + quote(code.library) + " was built for herd " + built + "; this herd is " +
                     hostBuild() + ": rebuild the library against this herd's package",
                 code.place};
  }
  return Ok{};
}

const ClassEntry* findClass(const CodeClass& code, const ScenarioEntry& entry, std::string& names) {
  for (const auto& candidate : *entry.classes) {
    if (candidate.name == code.class_name) return &candidate;
    names += names.empty() ? candidate.name : ", " + candidate.name;
  }
  return nullptr;
}

// "POST order" → {order, POST}; "order" → {order, CODE}.
Endpoint declaredEndpoint(const std::string& declared) {
  const size_t space = declared.find(' ');
  if (space == std::string::npos) return Endpoint{declared, "CODE"};
  return Endpoint{declared.substr(space + 1), declared.substr(0, space)};
}

Status bindClass(Plan& plan, UserClass& user_class) {
  auto& code = *user_class.code;
  auto loaded = load(code);
  if (!loaded) return loaded.error();
  if (auto build = checkBuild(code, loaded->entry); !build) return build.error();
  std::string names;
  const ClassEntry* found = findClass(code, *loaded->entry, names);
  if (found == nullptr) {
    return Error{code.field + ".class: " + quote(code.library) + " has no class " + quote(code.class_name) +
                     " (it has: " + (names.empty() ? "none" : names) + ")",
                 code.place};
  }
  if (found->create == nullptr) return Error{code.field + ".class: the class has no factory", code.place};
  code.sha256 = loaded->sha256;
  code.entry = found;
  code.library_handle = loaded->handle;
  code.first_endpoint = plan.endpoints.size();
  for (const auto& declared : found->endpoints) plan.endpoints.push_back(declaredEndpoint(declared));
  // Exceptions are counted against the class's first endpoint: one exists.
  if (found->endpoints.empty()) plan.endpoints.push_back(Endpoint{user_class.name, "CODE"});
  code.first_check = plan.checks.size();
  for (const auto& check : found->checks) plan.checks.push_back(user_class.name + ": " + check);
  // Streams are shared by name with the YAML classes' and the other C++ classes'.
  for (const auto& stream : found->streams) {
    if (std::find(plan.streams.begin(), plan.streams.end(), stream) == plan.streams.end()) {
      plan.streams.push_back(stream);
    }
  }
  return Ok{};
}

}  // namespace

std::string hostBuild() { return buildOf(HERD_API_VERSION, HERD_BUILD_FINGERPRINT); }

Status bindCode(Plan& plan) {
  for (auto& user_class : plan.classes) {
    if (!user_class.code) continue;
    if (auto bound = bindClass(plan, user_class); !bound) return bound.error();
  }
  return Ok{};
}

}  // namespace herd::scenario
