#pragma once
// Keeps a self-owning object alive while one of its methods is on the stack. Objects that are
// driven by libuv callbacks and by the exchange's callbacks can be finished from deep inside a
// call chain; deleting them there would pull the object from under the callers. Each entry
// point holds a guard, and the outermost one deletes the object once it says it is finished.
//
// The owner declares `int depth_ = 0;`, `void destroy_if_finished();` and
// `friend class CallDepthGuard<Owner>;`.

namespace ofwatchdog {

template <typename Owner> class CallDepthGuard {
public:
  explicit CallDepthGuard(Owner* owner) : owner_(owner) { ++owner_->depth_; }
  ~CallDepthGuard() {
    if (--owner_->depth_ == 0)
      owner_->destroy_if_finished();
  }
  CallDepthGuard(const CallDepthGuard&) = delete;
  CallDepthGuard& operator=(const CallDepthGuard&) = delete;

private:
  Owner* owner_;
};

} // namespace ofwatchdog
