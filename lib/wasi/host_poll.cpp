// poll_oneoff: waiting for clocks and the standard streams.
//
// Files and stdout/stderr are always ready (writes to the streams wait inside fd_write, for
// backpressure, not here); stdin is ready when Stdio says a read would not block. With nothing
// ready, the host waits once in Stdio::wait for the earliest clock deadline or stdin, so a
// cancelled request wakes a sleeping guest too.
//
// Subscriptions are read from guest memory in each pass rather than copied: a guest can pass
// millions, and the host keeps no copy of any of them. Every clock is turned into a
// steady-clock deadline from the values its clocks had when the call began, so a relative
// timeout counts from the call and an absolute one (any clock) becomes the wait it implies.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <limits>

#include "wasi/host.hpp"

namespace ofwatchdog::wasi {

namespace {

using Errno = abi::Errno;
using Clock = std::chrono::steady_clock;
using Deadline = Stdio::Deadline;

std::int64_t read_clock(clockid_t clock) {
  timespec now{};
  ::clock_gettime(clock, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

// `nanoseconds` after `from`, or Deadline::max() when that is past what a time_point holds.
Deadline after(Deadline from, std::int64_t nanoseconds) {
  if (nanoseconds <= 0)
    return from;
  auto room = Deadline::max() - from;
  if (std::chrono::nanoseconds(nanoseconds) >= room)
    return Deadline::max();
  return from + std::chrono::nanoseconds(nanoseconds);
}

// The clocks as they were when the call began.
struct PollStart {
  Deadline steady = Clock::now();
  std::int64_t realtime = read_clock(CLOCK_REALTIME);
  std::int64_t monotonic = read_clock(CLOCK_MONOTONIC);
  std::int64_t process_cputime = read_clock(CLOCK_PROCESS_CPUTIME_ID);
  std::int64_t thread_cputime = read_clock(CLOCK_THREAD_CPUTIME_ID);

  // False for an unknown clock id.
  bool deadline(const abi::SubscriptionClock& clock, Deadline& deadline) const {
    std::int64_t now;
    switch (clock.id) {
    case abi::ClockId::realtime:
      now = realtime;
      break;
    case abi::ClockId::monotonic:
      now = monotonic;
      break;
    case abi::ClockId::process_cputime:
      now = process_cputime;
      break;
    case abi::ClockId::thread_cputime:
      now = thread_cputime;
      break;
    default:
      return false;
    }
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    std::int64_t timeout = static_cast<std::int64_t>(std::min(clock.timeout, kMax));
    bool absolute = (clock.flags & abi::kSubclockAbstime) != 0;
    // CPU time passes no faster than wall time for one thread, so waiting the remaining CPU
    // time as wall time never wakes a CPU-time subscription early.
    deadline = after(steady, absolute ? timeout - now : timeout);
    return true;
  }
};

} // namespace

Host::Outcome Host::poll_oneoff(const GuestView& memory, std::uint32_t in, std::uint32_t out,
                                std::uint32_t count, std::uint32_t nevents_ptr) {
  if (count == 0)
    return done(Errno::inval);
  if (!memory.contains_array(in, count, sizeof(abi::Subscription)) ||
      !memory.contains_array(out, count, sizeof(abi::Event)) || !memory.contains(nevents_ptr, 4))
    return done(Errno::fault);
  const PollStart start;

  // What subscription `i` says now; `deadline` is set for a clock not yet due.
  auto evaluate = [&](std::uint32_t i, Deadline now, Deadline& deadline, bool& wants_stdin,
                      abi::Event& event) {
    abi::Subscription subscription =
        *memory.load<abi::Subscription>(in + std::uint64_t{i} * sizeof(abi::Subscription));
    event = abi::Event{};
    event.userdata = subscription.userdata;
    event.type = subscription.tag;
    switch (subscription.tag) {
    case abi::EventType::clock: {
      Deadline due;
      if (!start.deadline(subscription.u.clock, due)) {
        event.error = Errno::inval;
        return true;
      }
      if (due <= now)
        return true;
      deadline = std::min(deadline, due);
      return false;
    }
    case abi::EventType::fd_read:
    case abi::EventType::fd_write: {
      bool reading = subscription.tag == abi::EventType::fd_read;
      const Descriptor* descriptor = descriptors_.find(subscription.u.fd);
      if (descriptor == nullptr || descriptor->is_directory()) {
        event.error = Errno::badf;
        return true;
      }
      abi::Rights needed =
          abi::right::poll_fd_readwrite | (reading ? abi::right::fd_read : abi::right::fd_write);
      if (!descriptor->allows(needed)) {
        event.error = Errno::notcapable;
        return true;
      }
      if (descriptor->kind == Descriptor::Kind::stdin_stream) {
        if (stdio_.stdin_ready())
          return true;
        wants_stdin = true;
        return false;
      }
      return true; // stdout, stderr and files never make a poll wait
    }
    default:
      event.error = Errno::inval;
      return true;
    }
  };

  // One pass: every ready subscription's event written, in order; their number returned.
  auto collect = [&](Deadline& deadline, bool& wants_stdin) {
    deadline = Deadline::max();
    wants_stdin = false;
    Deadline now = Clock::now();
    std::uint32_t ready = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
      abi::Event event;
      if (evaluate(i, now, deadline, wants_stdin, event))
        memory.store(out + std::uint64_t{ready++} * sizeof(abi::Event), event);
    }
    return ready;
  };

  for (;;) {
    Deadline deadline;
    bool wants_stdin;
    std::uint32_t ready = collect(deadline, wants_stdin);
    if (ready > 0) {
      memory.store(nevents_ptr, ready);
      return done(Errno::success);
    }
    if (stdio_.wait(wants_stdin, deadline) == Stdio::WaitResult::interrupted)
      return interrupted();
  }
}

} // namespace ofwatchdog::wasi
