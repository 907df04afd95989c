#pragma once
// gzip and base64 for results kept in Kubernetes objects: the operator keeps a
// run's report.html gzipped in the summary ConfigMap's binaryData (base64 on the
// wire), and `herd k8s report` reads it back. zlib stays in compress.cc.
#include <string>
#include <string_view>

#include "common/core/result.h"

namespace herd::report {

std::string gzip(std::string_view data);
// Errors say what zlib found ("not gzip data", "truncated").
Result<std::string> gunzip(std::string_view data);

std::string base64Encode(std::string_view data);
// Standard alphabet with padding, as Kubernetes writes binaryData; whitespace is skipped.
Result<std::string> base64Decode(std::string_view text);

}  // namespace herd::report
