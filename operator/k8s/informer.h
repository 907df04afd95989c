#pragma once
// An informer: a local cache of one resource kept current by list + watch, with
// handlers called on every change. The reflector loop behind it
//   - lists (paginated) and replaces the cache, telling handlers what changed,
//   - watches from the list's resourceVersion with bookmarks, remembering the
//     last version it saw (events and bookmarks),
//   - when the watch ends or the connection drops, watches again from that
//     version (with backoff on errors: an apiserver restart is just a pause),
//   - when the server says that version is gone (410, or an ERROR event with
//     code 410 after etcd compaction), lists again.
// So the cache converges to the server's state whatever happens in between;
// handlers see every change of state, though not every intermediate version.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "common/core/json.h"

#include "operator/k8s/client.h"
#include "operator/k8s/work_queue.h"

namespace herd::k8s {

struct EventHandlers {
  std::function<void(const Json& obj)> on_add;
  std::function<void(const Json& old_obj, const Json& new_obj)> on_update;
  std::function<void(const Json& obj)> on_delete;
};

struct InformerOptions {
  std::string ns;  // "" all namespaces
  std::string label_selector;
  std::string field_selector;
  int page_size = 500;
  int watch_timeout_seconds = 240;
  BackoffPolicy error_backoff{std::chrono::milliseconds(100), std::chrono::seconds(5)};
};

class Informer {
 public:
  struct Stats {
    uint64_t lists = 0;    // successful (re)lists
    uint64_t watches = 0;  // watch requests started
    uint64_t gone = 0;     // times the server said our version was compacted
    uint64_t errors = 0;   // failed lists or watches (retried)
  };

  Informer(Client& client, Resource resource, InformerOptions options = {});
  ~Informer();  // stops and joins
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Handlers run on the informer's thread, one event at a time, never under the
  // cache's lock (they may call get()/list()). Add them before start().
  void addHandlers(EventHandlers handlers);
  void start();
  void stop();

  bool hasSynced() const;
  // Waits for the first list to land; false on timeout.
  bool waitForSync(std::chrono::milliseconds timeout) const;

  std::optional<Json> get(const std::string& key) const;
  std::vector<Json> list() const;
  std::string lastResourceVersion() const;
  Stats stats() const;

 private:
  void run(std::stop_token stop);
  ApiStatus relist();
  // One watch request; sets `gone` when the server reports a compacted version.
  ApiStatus watchOnce(std::stop_token stop, bool& gone);
  void apply(WatchEvent&& event);
  void pause(std::stop_token stop, int failures);

  void notifyAdd(const Json& obj);
  void notifyUpdate(const Json& old_obj, const Json& new_obj);
  void notifyDelete(const Json& obj);

  Client& client_;
  const Resource resource_;
  const InformerOptions options_;
  std::vector<EventHandlers> handlers_;

  mutable std::mutex mu_;
  mutable std::condition_variable_any cv_;
  std::map<std::string, Json> cache_;
  std::string resource_version_;
  bool synced_ = false;
  Stats stats_;

  std::jthread thread_;
};

}  // namespace herd::k8s
