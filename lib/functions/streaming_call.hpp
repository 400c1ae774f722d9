#pragma once
// The StreamingCall a function gets, over the WorkContext of the pool's job: the request's
// deadline and stop token, `max_body_size` on what it reads, and the response checks.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>

#include "ofwatchdog/function.hpp"

namespace ofwatchdog::functions {

// What the loop knows of a request when it hands it to a worker.
struct CallSetup {
  std::optional<std::chrono::steady_clock::time_point> deadline;
  std::uint64_t max_body_size = 0; // 0: no limit

  // For a request starting now under `timeout` (<= 0: none).
  static CallSetup starting_now(Duration timeout, const Config& config) {
    CallSetup setup;
    if (timeout > Duration::zero())
      setup.deadline = std::chrono::steady_clock::now() + timeout;
    setup.max_body_size = config.max_body_size;
    return setup;
  }
};

class StreamingCallImpl final : public StreamingCall {
public:
  // Worker thread, for the life of one job.
  StreamingCallImpl(WorkContext& work, const CallSetup& setup);

  std::string_view call_id() const override;
  std::optional<Duration> time_left() const override;
  std::stop_token stop_token() const override { return stop_.get_token(); }
  std::optional<CancelReason> stop_reason() const override { return work_.cancel_reason(); }
  void log(std::string_view line) override { work_.log(line); }

  const Request& request() const override { return work_.request(); }
  WorkRead read(char* buffer, std::size_t capacity) override;
  bool send_head(int status, HeaderList headers,
                 std::optional<std::uint64_t> content_length) override;
  bool write(std::string_view data) override;
  void fail(std::string_view why) override;

  // Whether the call can still answer: not stopped, not failed, not refused.
  bool answering() const { return state_ != State::over && !work_.cancelled(); }

private:
  // The response, as far as the function has taken it.
  enum class State {
    no_head,   // nothing sent: a failure is still a 500
    head_sent, // the head is committed; the body is being written
    over,      // failed, or refused with 413: nothing more goes out
  };

  // The 413 for a body that passed `max_body_size` while it was read.
  void refuse_body();

  WorkContext& work_;
  const CallSetup& setup_;
  std::stop_source stop_;
  State state_ = State::no_head;
  std::uint64_t body_read_ = 0;
  std::optional<std::uint64_t> body_left_; // of a declared Content-Length
};

// The fixed text a client gets when a function fails: what failed is in the log only
// (docs/decisions.md, in-process-failure).
inline constexpr std::string_view kFailureText = "Internal Server Error: the function failed\n";

} // namespace ofwatchdog::functions
