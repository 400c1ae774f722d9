#pragma once
// Remembers the thread it was made on, so code that must run on the loop can check that it
// does. Calling an Exchange from a worker would race with the loop on the connection's state;
// that is a broken invariant, so it aborts rather than going on.

#include <string>
#include <thread>

#include "util/invariant.hpp"

namespace ofwatchdog::work {

class LoopThread {
public:
  LoopThread() : id_(std::this_thread::get_id()) {}

  void check(const char* what) const {
    OFW_INVARIANT(std::this_thread::get_id() == id_,
                  std::string(what) + " is called on the loop thread only");
  }

private:
  std::thread::id id_;
};

} // namespace ofwatchdog::work
