// libFuzzer target for the kubeconfig reader: arbitrary text (YAML or JSON)
// must give a Config or an Error naming the place, never crash or hang. File
// references in the input resolve against a directory that does not exist.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/k8s/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = herd::k8s::parseKubeconfig(text, "/nonexistent/herd-fuzz/kubeconfig");
  if (!config.ok()) (void)config.error().describe();
  return 0;
}
