#include "operator/k8s/informer.h"

#include "common/core/logging.h"

namespace herd::k8s {

using json = Json;

Informer::Informer(Client& client, Resource resource, InformerOptions options)
    : client_(client), resource_(std::move(resource)), options_(std::move(options)) {}

Informer::~Informer() { stop(); }

void Informer::addHandlers(EventHandlers handlers) { handlers_.push_back(std::move(handlers)); }

void Informer::start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void Informer::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();  // cancels a blocked watch read and any backoff wait
  thread_.join();
}

void Informer::run(std::stop_token stop) {
  auto log = herd::logger("k8s");
  bool need_list = true;
  int failures = 0;
  while (!stop.stop_requested()) {
    if (need_list) {
      if (auto listed = relist(); !listed.ok()) {
        log->warn("informer {}: list failed: {}", resource_.plural, listed.error().describe());
        pause(stop, ++failures);
        continue;
      }
      need_list = false;
    }
    bool gone = false;
    auto watched = watchOnce(stop, gone);
    if (stop.stop_requested()) break;
    if (gone || (!watched.ok() && watched.error().isGone())) {
      // Nothing to back off from: the server is fine, our version is too old.
      std::lock_guard lock(mu_);
      ++stats_.gone;
      need_list = true;
      log->info("informer {}: resourceVersion {} is gone, relisting", resource_.plural, resource_version_);
      continue;
    }
    if (watched.ok()) {
      failures = 0;  // the server ended the watch normally; resume at once
      continue;
    }
    log->warn("informer {}: watch failed, resuming from {}: {}", resource_.plural, lastResourceVersion(),
              watched.error().describe());
    pause(stop, ++failures);
  }
}

void Informer::pause(std::stop_token stop, int failures) {
  {
    std::lock_guard lock(mu_);
    ++stats_.errors;
  }
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, stop, backoffDelay(options_.error_backoff, failures), [] { return false; });
}

ApiStatus Informer::relist() {
  ListOptions opts{options_.label_selector, options_.field_selector, options_.page_size, "", ""};
  auto listed = client_.listAll(resource_, options_.ns, opts);
  if (!listed.ok()) return listed.error();

  std::map<std::string, json> fresh;
  for (auto& item : (*listed)["items"]) {
    if (!item.is_object()) continue;  // not an object: nothing a cache could key
    // List items omit kind/apiVersion; restore them so handlers and caches
    // hold the same shape watch events deliver.
    item["kind"] = resource_.kind;
    item["apiVersion"] = resource_.apiVersion();
    std::string key = keyOf(item);
    fresh.emplace(std::move(key), std::move(item));
  }
  std::map<std::string, json> old;
  {
    std::lock_guard lock(mu_);
    old.swap(cache_);
    cache_ = fresh;
    resource_version_ = getString(getObject(*listed, "metadata"), "resourceVersion");
    synced_ = true;
    ++stats_.lists;
  }
  cv_.notify_all();
  // Tell handlers how the new state differs from what they saw last.
  for (const auto& [key, obj] : old) {
    if (!fresh.count(key)) notifyDelete(obj);
  }
  for (const auto& [key, obj] : fresh) {
    auto it = old.find(key);
    if (it == old.end()) {
      notifyAdd(obj);
    } else if (resourceVersionOf(it->second) != resourceVersionOf(obj)) {
      notifyUpdate(it->second, obj);
    }
  }
  return Ok{};
}

ApiStatus Informer::watchOnce(std::stop_token stop, bool& gone) {
  WatchOptions opts{lastResourceVersion(), options_.label_selector, options_.field_selector, true,
                    options_.watch_timeout_seconds};
  {
    std::lock_guard lock(mu_);
    ++stats_.watches;
  }
  // An ERROR event ends this watch early: a stop source of our own, chained to
  // the informer's.
  std::stop_source local;
  std::stop_callback chain(stop, [&local] { local.request_stop(); });
  std::optional<ApiError> server_error;
  auto result = client_.watch(
      resource_, options_.ns, opts,
      [&](WatchEvent&& event) {
        if (event.type != WatchEvent::Type::Error) return apply(std::move(event));
        const json& st = event.object;
        server_error = ApiError{static_cast<int>(getInt(st, "code")), getString(st, "reason"), getString(st, "message"),
                                "watch ERROR event"};
        local.request_stop();
      },
      local.get_token());
  if (server_error) {
    if (server_error->isGone()) gone = true;
    return *server_error;
  }
  return result;
}

void Informer::apply(WatchEvent&& event) {
  json& obj = event.object;
  std::string key = keyOf(obj);
  std::optional<json> old;
  {
    std::lock_guard lock(mu_);
    if (auto rv = resourceVersionOf(obj); !rv.empty()) resource_version_ = rv;
    if (event.type == WatchEvent::Type::Bookmark) return;  // progress only
    auto it = cache_.find(key);
    if (it != cache_.end()) old = it->second;
    if (event.type == WatchEvent::Type::Deleted) {
      cache_.erase(key);
    } else {
      cache_[key] = obj;
    }
  }
  if (event.type == WatchEvent::Type::Deleted) {
    notifyDelete(obj);
  } else if (old) {
    notifyUpdate(*old, obj);
  } else {
    notifyAdd(obj);
  }
}

void Informer::notifyAdd(const json& obj) {
  for (const auto& h : handlers_)
    if (h.on_add) h.on_add(obj);
}
void Informer::notifyUpdate(const json& old_obj, const json& new_obj) {
  for (const auto& h : handlers_)
    if (h.on_update) h.on_update(old_obj, new_obj);
}
void Informer::notifyDelete(const json& obj) {
  for (const auto& h : handlers_)
    if (h.on_delete) h.on_delete(obj);
}

bool Informer::hasSynced() const {
  std::lock_guard lock(mu_);
  return synced_;
}

bool Informer::waitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return synced_; });
}

std::optional<json> Informer::get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

std::vector<json> Informer::list() const {
  std::lock_guard lock(mu_);
  std::vector<json> out;
  out.reserve(cache_.size());
  for (const auto& [key, obj] : cache_) out.push_back(obj);
  return out;
}

std::string Informer::lastResourceVersion() const {
  std::lock_guard lock(mu_);
  return resource_version_;
}

Informer::Stats Informer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace herd::k8s
