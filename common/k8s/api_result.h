#pragma once
// The Kubernetes client's result type. herd::Result carries an Error for people;
// callers of the apiserver also need to branch on what the server said (404 means
// "create it", 409 means "read again and retry", 410 means "relist"), so ApiError
// adds the HTTP status and the Status reason to herd::Error's message and place.
#include <string>

#include "common/core/result.h"

namespace herd::k8s {

struct ApiError {
  // HTTP status from the apiserver; 0 when no usable response arrived (connection
  // refused, TLS failure, timeout, a body that is not JSON).
  int status = 0;
  // metav1.Status.reason when the server sent one: NotFound, AlreadyExists,
  // Conflict, Expired, Gone, Invalid, ...
  std::string reason;
  std::string message;
  // The request, e.g. "GET https://127.0.0.1:6443/api/v1/namespaces/x/pods/y".
  std::string where;

  bool isNotFound() const { return status == 404; }
  bool isAlreadyExists() const { return status == 409 && reason == "AlreadyExists"; }
  // A write lost an optimistic-concurrency race (stale metadata.resourceVersion).
  bool isConflict() const { return status == 409 && reason != "AlreadyExists"; }
  // The resourceVersion a watch or list asked for has been compacted away.
  bool isGone() const { return status == 410 || reason == "Expired" || reason == "Gone"; }
  // Worth retrying unchanged: no response at all, throttling, or a server fault.
  bool isTransient() const { return status == 0 || status == 429 || status >= 500; }

  herd::Error toError() const {
    std::string m = status ? std::to_string(status) + (reason.empty() ? "" : " " + reason) + ": " + message : message;
    return herd::Error{std::move(m), where};
  }
  std::string describe() const { return toError().describe(); }
};

template <typename T>
using ApiResult = herd::Result<T, ApiError>;

using ApiStatus = ApiResult<herd::Ok>;

}  // namespace herd::k8s
