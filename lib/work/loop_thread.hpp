#pragma once
// Remembers the thread it was made on, so code that must run on the loop can check that it
// does. Calling an Exchange from a worker would race with the loop on the connection's state;
// that is a broken invariant, so it aborts rather than going on.

#include <cstdio>
#include <cstdlib>
#include <thread>

namespace ofwatchdog::work {

class LoopThread {
public:
  LoopThread() : id_(std::this_thread::get_id()) {}

  void check(const char* what) const {
    if (std::this_thread::get_id() != id_) {
      std::fprintf(stderr, "%s called off the loop thread\n", what);
      std::abort();
    }
  }

private:
  std::thread::id id_;
};

} // namespace ofwatchdog::work
