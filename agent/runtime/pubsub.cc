// The pub/sub part of a fiber: a publish stamps its message with a marker (the
// publisher's index, the message number and the wall-clock send time) and records
// the message once the server accepted it; a subscribe renders its topics once,
// records the subscription, asks long-polls for the next message after the last
// one (If-Modified-Since / If-None-Match, as nchan and most long-poll servers do),
// or resumes an event stream with Last-Event-ID, and records every marker it receives.
#include <chrono>

#include "agent/runtime/fiber.h"
#include "agent/runtime/virtual_user.h"
#include "agent/runtime/worker.h"
#include "common/scenario/extract.h"

namespace herd::runtime {

namespace {

int64_t wallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

using Kind = scenario::Delivery::Kind;

// The subscribe's topics for this user: the list as written, or its cohort's members.
std::vector<std::string> renderTopics(const scenario::Delivery& delivery, VirtualUser& user) {
  std::vector<std::string> topics;
  auto render = [&](const scenario::Template& tmpl) {
    std::string topic;
    scenario::renderTemplate(tmpl, user.renderContext(), topic);
    topics.push_back(std::move(topic));
  };
  if (delivery.cohort == 0) {
    for (const auto& tmpl : delivery.topics) render(tmpl);
    return topics;
  }
  const int64_t first = user.renderContext().class_index * delivery.cohort;
  for (int64_t member = first; member < first + delivery.cohort; ++member) {
    user.variables()[delivery.member_variable] = std::to_string(member);
    render(delivery.topics[0]);
  }
  return topics;
}

}  // namespace

bool Fiber::subscribing() const {
  return wait_ == Wait::kResponse && pending_ != nullptr && pending_->delivery &&
         pending_->delivery->kind == Kind::kSubscribe;
}

void Fiber::prepareDelivery(const scenario::RequestStep& step) {
  const auto& delivery = *step.delivery;
  if (delivery.kind == Kind::kPublish) {
    if (marker_.empty()) {  // a retry re-sends the same message
      marker_ = stats::deliveryMarker(user_.index(), user_.nextMessage(), wallMicros());
      marker_ += ' ';
    }
    return;
  }
  auto& state = user_.subscription(&step);
  if (!state.started) {
    state.started = true;
    auto topics = renderTopics(delivery, user_);
    std::string joined;
    for (const auto& topic : topics) joined += (joined.empty() ? "" : ",") + topic;
    user_.variables()[delivery.topics_variable] = joined;
    user_.worker().delivery().subscriptions.push_back(
        stats::Subscription{static_cast<uint32_t>(delivery.stream), user_.index(), std::move(topics), wallMicros()});
  }
  extra_headers_.clear();
  if (delivery.mode == scenario::Delivery::Mode::kSse) {
    state.sse.reconnect();  // a new connection: a partial event is gone
    extra_headers_ += "Accept: text/event-stream\r\nCache-Control: no-cache\r\n";
    if (!state.sse.lastEventId().empty()) extra_headers_ += "Last-Event-ID: " + state.sse.lastEventId() + "\r\n";
    return;
  }
  if (!state.last_modified.empty()) extra_headers_ += "If-Modified-Since: " + state.last_modified + "\r\n";
  if (!state.etag.empty()) extra_headers_ += "If-None-Match: " + state.etag + "\r\n";
}

void Fiber::recordMarkers(std::string_view text) {
  auto& state = user_.subscription(pending_);
  state.carry.append(text);
  const auto stream = static_cast<uint32_t>(pending_->delivery->stream);
  const int64_t now = wallMicros();
  auto& receipts = user_.worker().delivery().receipts;
  const size_t keep = stats::scanMarkers(state.carry, [&](int64_t publisher, uint64_t seq, int64_t sent) {
    receipts.push_back(stats::Receipt{stream, user_.index(), publisher, seq, sent, now});
  });
  state.carry.erase(0, state.carry.size() - keep);
}

void Fiber::onBodyData(std::string_view data) {
  if (pending_ == nullptr || !pending_->delivery) return;
  if (pending_->delivery->mode != scenario::Delivery::Mode::kSse) {
    recordMarkers(data);
    return;
  }
  // Events arrive whole from the parser: their markers need no carry.
  auto& state = user_.subscription(pending_);
  const auto stream = static_cast<uint32_t>(pending_->delivery->stream);
  auto& receipts = user_.worker().delivery().receipts;
  state.sse.feed(data, [&](const engine::SseEvent& event) {
    const int64_t now = wallMicros();
    stats::scanMarkers(event.data, [&](int64_t publisher, uint64_t seq, int64_t sent) {
      receipts.push_back(stats::Receipt{stream, user_.index(), publisher, seq, sent, now});
    });
  });
}

// An event stream the server ended is reconnected after the `retry:` time it
// asked for, as EventSource does; none asked, none waited.
Nanos Fiber::reconnectDelay(const scenario::RequestStep& step, const engine::HttpResponse& response) {
  if (!step.delivery || step.delivery->mode != scenario::Delivery::Mode::kSse) return Nanos(0);
  if (response.error != stats::ErrorKind::kNone) return Nanos(0);
  const auto retry = user_.subscription(&step).sse.retryMs();
  return retry ? std::chrono::duration_cast<Nanos>(std::chrono::milliseconds(*retry)) : Nanos(0);
}

bool Fiber::deliveryResponse(const scenario::RequestStep& step, const engine::HttpResponse& response, bool ok) {
  const auto& delivery = *step.delivery;
  if (delivery.kind == Kind::kPublish) {
    if (ok) {
      std::string topic;
      scenario::renderTemplate(delivery.topic, user_.renderContext(), topic);
      // The marker's numbers, read back rather than kept twice.
      stats::scanMarkers(marker_, [&](int64_t publisher, uint64_t seq, int64_t sent) {
        user_.worker().delivery().published.push_back(
            stats::PublishedMessage{static_cast<uint32_t>(delivery.stream), topic, publisher, seq, sent});
      });
    }
    return false;
  }
  if (delivery.mode != scenario::Delivery::Mode::kLongPoll) {
    // A stream has no end of its own: its deadline (or the drain) ends it.
    return response.error == stats::ErrorKind::kTimeout ||
           (response.error == stats::ErrorKind::kNone && response.status < 400);
  }
  if (response.error != stats::ErrorKind::kNone) return false;
  if (response.status == 200) {
    recordMarkers(response.body);
    auto& state = user_.subscription(&step);
    state.carry.clear();  // a long-poll response is whole
    if (const auto modified = scenario::headerValue(response.headers, "last-modified")) state.last_modified = *modified;
    if (const auto etag = scenario::headerValue(response.headers, "etag")) state.etag = *etag;
  }
  // Nothing new before the server's long-poll timeout: 304 (nchan) or 408.
  return response.status == 304 || response.status == 408 || response.status == 200;
}

}  // namespace herd::runtime
