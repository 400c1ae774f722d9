#pragma once
// Log lines from worker threads, written on the loop through the watchdog's Logger.
//
// The Logger is not thread-safe (it may hold deferred lines), so a worker never calls it: each
// line is posted to the loop's inbox and written there. The inbox runs closures in posting
// order, so the lines of one request (one worker at a time) keep their order, and so do all
// the lines of one worker thread; lines of different workers interleave only between lines.

#include <string_view>

#include "ofwatchdog/log.hpp"
#include "work/loop_inbox.hpp"

namespace ofwatchdog::work {

class LoopLog {
public:
  LoopLog(LoopInbox& inbox, Logger& log) : inbox_(inbox), log_(log) {}

  // Any thread. Return false when the line was dropped because the inbox is closed (the pool
  // has stopped, so no worker is left to write one).
  bool info(std::string_view line);
  bool relay(std::string_view stream, std::string_view line);

private:
  LoopInbox& inbox_;
  Logger& log_;
};

} // namespace ofwatchdog::work
