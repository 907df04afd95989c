#include "agent/runtime/virtual_user.h"

#include <algorithm>

#include "agent/runtime/code_user.h"
#include "agent/runtime/spawner.h"
#include "agent/runtime/worker.h"

namespace herd::runtime {

VirtualUser::VirtualUser(Worker& worker, int64_t index, const scenario::UserClass& user_class, int64_t class_index)
    : worker_(worker),
      index_(index),
      class_index_(class_index),
      class_(user_class),
      open_(worker.shared().arrivals != nullptr),
      variables_(worker.shared().plan->variables.size()),
      main_(user_class.code ? nullptr : std::make_unique<Fiber>(*this, nullptr)),
      code_(user_class.code ? std::make_unique<CodeUser>(*this, user_class) : nullptr) {}

VirtualUser::~VirtualUser() = default;

scenario::RenderContext VirtualUser::renderContext() {
  return scenario::RenderContext{index_, class_.name, worker_.rng(), &variables_, class_index_};
}

void VirtualUser::begin() {
  phase_ = Phase::kOnStart;
  if (code_) {
    code_->begin();
    return;
  }
  main_->start(&class_.on_start);
}

void VirtualUser::arrive(MonoTime intended) {
  if (code_) {
    code_->arrive(intended);
    return;
  }
  arrival_ = intended;
  if (phase_ == Phase::kIdle) {
    phase_ = Phase::kIterating;
    main_->start(nullptr);  // asks next(), which takes the arrival
  }
}

void VirtualUser::stop() {
  if (phase_ == Phase::kDone || stop_requested_) return;
  stop_requested_ = true;
  if (code_) {
    code_->stop();
    return;
  }
  if (phase_ == Phase::kIdle) {
    fiberEnded(*main_);  // onStop, or done
    return;
  }
  // Branches first: the main fiber may be waiting for them.
  for (auto& branch : branches_) branch->stop();
  main_->stop();
}

void VirtualUser::stopFromStep() { stop(); }

void VirtualUser::abandon() {
  if (code_) {
    code_->abandon();
    finish();
    return;
  }
  for (auto& branch : branches_) branch->abandon();
  main_->abandon();
  finish();
}

void VirtualUser::finish() {
  if (phase_ == Phase::kDone) return;
  phase_ = Phase::kDone;
  worker_.userFinished();
}

const std::vector<scenario::Step>* VirtualUser::next(Fiber& fiber) {
  if (&fiber != main_.get() || stop_requested_) return nullptr;
  switch (phase_) {
    case Phase::kOnStart:
    case Phase::kIterating:
      phase_ = Phase::kIterating;
      if (!open_) return &pickIteration();
      if (!arrival_) return nullptr;  // idle until the next arrival
      // The iteration is late by however long the arrival waited for a user; its
      // requests count that wait in their latency (coordinated omission).
      fiber.setLateness(std::max(Nanos(0), worker_.loop().now() - *arrival_));
      arrival_.reset();
      return &pickIteration();
    case Phase::kIdle:
    case Phase::kOnStop:
    case Phase::kDone: return nullptr;
  }
  return nullptr;
}

// The class's steps, or one task picked by weight.
const std::vector<scenario::Step>& VirtualUser::pickIteration() {
  if (class_.tasks.empty()) return class_.steps;
  double total = 0;
  for (const auto& task : class_.tasks) total += task.weight;
  double pick = worker_.rng().unit() * total;
  for (const auto& task : class_.tasks) {
    pick -= task.weight;
    if (pick < 0) return task.steps;
  }
  return class_.tasks.back().steps;
}

// Only the main fiber reports here (branches report to their parent). It ends
// when the user stops; then onStop runs, once, unless the run is abandoning.
void VirtualUser::fiberEnded(Fiber& fiber) {
  if (&fiber != main_.get()) return;
  if (open_ && !stop_requested_ && phase_ == Phase::kIterating) {
    phase_ = Phase::kIdle;
    worker_.spawner().userIdle(*this);
    return;
  }
  if (phase_ != Phase::kOnStop && !class_.on_stop.empty() && !worker_.abandoning()) {
    phase_ = Phase::kOnStop;
    main_->start(&class_.on_stop);
    return;
  }
  finish();
}

Fiber& VirtualUser::spawn(Fiber& parent) {
  branches_.push_back(std::make_unique<Fiber>(*this, &parent));
  branches_.back()->setLateness(parent.lateness());
  return *branches_.back();
}

void VirtualUser::reap(Fiber& parent) {
  if (branches_.empty()) return;
  // A branch's own branches go with it: the ended set is closed under parenthood
  // because a fiber ends only after its branches did.
  branches_.erase(std::remove_if(branches_.begin(), branches_.end(),
                                 [&](const auto& branch) { return branch->ended() && branch->parent() == &parent; }),
                  branches_.end());
}

}  // namespace herd::runtime
