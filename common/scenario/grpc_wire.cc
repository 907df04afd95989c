#include "common/scenario/grpc_wire.h"

#include <array>
#include <charconv>

namespace herd::scenario {

namespace {

constexpr size_t kPrefix = 5;

}  // namespace

void appendGrpcFrame(std::string_view message, std::string& out) {
  const auto size = static_cast<uint32_t>(message.size());
  out.push_back('\0');
  out.push_back(static_cast<char>((size >> 24) & 0xff));
  out.push_back(static_cast<char>((size >> 16) & 0xff));
  out.push_back(static_cast<char>((size >> 8) & 0xff));
  out.push_back(static_cast<char>(size & 0xff));
  out.append(message);
}

bool splitGrpcFrames(std::string_view body, std::vector<std::string_view>& messages) {
  messages.clear();
  while (!body.empty()) {
    if (body.size() < kPrefix) return false;
    const auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(body[i])); };
    if (byte(0) != 0) return false;  // compressed (1), or a flag gRPC does not define
    const uint32_t size = byte(1) << 24 | byte(2) << 16 | byte(3) << 8 | byte(4);
    if (size > body.size() - kPrefix) return false;
    messages.push_back(body.substr(kPrefix, size));
    body.remove_prefix(kPrefix + size);
  }
  return true;
}

std::string_view findGrpcField(std::string_view headers, std::string_view name) {
  // The last one wins: a trailer comes after the headers it may repeat.
  std::string_view found;
  while (!headers.empty()) {
    const size_t end = std::min(headers.find('\n'), headers.size());
    const std::string_view line = headers.substr(0, end);
    headers.remove_prefix(std::min(end + 1, headers.size()));
    if (line.size() > name.size() + 1 && line.starts_with(name) && line[name.size()] == ':') {
      found = line.substr(name.size() + 1);
      while (!found.empty() && found.front() == ' ') found.remove_prefix(1);
    }
  }
  return found;
}

int32_t grpcStatusOf(std::string_view headers) {
  const std::string_view text = findGrpcField(headers, "grpc-status");
  int32_t code = -1;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), code);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || code < 0) return -1;
  return code;
}

std::string grpcTimeoutValue(Duration timeout) {
  // Finest unit whose count fits in 8 digits.
  struct Unit {
    int64_t nanos;
    char name;
  };
  static constexpr std::array<Unit, 6> kUnits = {Unit{1, 'n'},
                                                 Unit{1'000, 'u'},
                                                 Unit{1'000'000, 'm'},
                                                 Unit{1'000'000'000, 'S'},
                                                 Unit{60'000'000'000, 'M'},
                                                 Unit{3'600'000'000'000, 'H'}};
  const int64_t nanos = timeout.count() < 1 ? 1 : timeout.count();
  for (const Unit& unit : kUnits) {
    const int64_t count = (nanos + unit.nanos - 1) / unit.nanos;
    if (count <= 99'999'999) return std::to_string(count) + unit.name;
  }
  return "99999999H";
}

}  // namespace herd::scenario
