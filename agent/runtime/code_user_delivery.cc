// Pub/sub with delivery tracking for a C++ user (herd::User::newMessage and
// the calls after it): the same markers and the same worker's DeliveryLog as
// a YAML publish and subscribe (agent/runtime/pubsub.cc), so the delivery
// section of the summary counts both alike.
#include <algorithm>
#include <chrono>
#include <stdexcept>

#include <fmt/format.h>

#include "agent/runtime/code_user.h"
#include "agent/runtime/virtual_user.h"
#include "agent/runtime/worker.h"
#include "common/stats/delivery.h"

namespace herd::runtime {

namespace {

int64_t wallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

uint32_t CodeUser::streamIndex(std::string_view name) const {
  const auto& declared = entry_.streams;
  if (std::find(declared.begin(), declared.end(), name) == declared.end()) {
    throw std::invalid_argument(fmt::format("stream \"{}\" is not declared by class {}", name, entry_.name));
  }
  const auto& streams = owner_.worker().shared().plan->streams;
  return static_cast<uint32_t>(std::find(streams.begin(), streams.end(), name) - streams.begin());
}

std::string CodeUser::newMessage() { return stats::deliveryMarker(owner_.index(), owner_.nextMessage(), wallMicros()); }

void CodeUser::published(std::string_view stream, std::string_view topic, std::string_view marker) {
  const uint32_t index = streamIndex(stream);
  size_t found = 0;
  stats::scanMarkers(marker, [&](int64_t publisher, uint64_t seq, int64_t sent) {
    owner_.worker().delivery().published.push_back(
        stats::PublishedMessage{index, std::string(topic), publisher, seq, sent});
    ++found;
  });
  if (found == 0) throw std::invalid_argument(fmt::format("published(): no marker in \"{}\"", marker));
}

void CodeUser::subscribed(std::string_view stream, const std::vector<std::string>& topics) {
  owner_.worker().delivery().subscriptions.push_back(
      stats::Subscription{streamIndex(stream), owner_.index(), topics, wallMicros()});
}

size_t CodeUser::delivered(std::string_view stream, std::string_view text) {
  const uint32_t index = streamIndex(stream);
  const int64_t now = wallMicros();
  auto& receipts = owner_.worker().delivery().receipts;
  size_t found = 0;
  stats::scanMarkers(text, [&](int64_t publisher, uint64_t seq, int64_t sent) {
    receipts.push_back(stats::Receipt{index, owner_.index(), publisher, seq, sent, now});
    ++found;
  });
  return found;
}

}  // namespace herd::runtime
