#pragma once
// Coroutine handlers: serve a request from a C++20 coroutine on the watchdog's loop thread,
// written top to bottom, with the backpressure and the cancellation of the Exchange API but
// without its callbacks and without managing any lifetime.
//
//   #include <ofwatchdog/coroutine.hpp>
//   #include <ofwatchdog/watchdog.hpp>
//
//   ofwatchdog::Task echo(ofwatchdog::LoopCall& call) {
//     for (;;) {
//       ofwatchdog::BodyPiece piece = co_await call.read();
//       if (piece.status != ofwatchdog::BodyPiece::Status::data)
//         co_return;                          // the end of the body, or cancelled
//       if (!co_await call.write(piece.data)) // waits while the client is behind
//         co_return;                          // cancelled
//     }
//   }
//
//   int main() {
//     auto loaded = ofwatchdog::load_config({"mode=inproc"});
//     ofwatchdog::Watchdog watchdog(loaded.config(), ofwatchdog::make_coroutine_mode(echo));
//     return watchdog.run();
//   }
//
// The handler is called on the loop thread for every function request and returns a `Task`:
// the coroutine's frame, which the mode owns from then on. The mode starts it, and destroys it
// when it returns (or throws); nobody deletes anything. The coroutine must not block: it waits
// only by `co_await`. Returning finishes the response (200 with no headers and no body if
// nothing was sent); an escaping exception becomes a 500 with a fixed text if no head was sent
// (else the response is cut short), and its message goes to the log.
//
// Cancellation: when the client goes away, `exec_timeout` (or `X-Timeout`) passes, the body
// passes `max_body_size`, or the watchdog shuts down, an await the coroutine is suspended in
// resumes at once with its cancelled result, and every later await completes at once as
// cancelled; `cancel_reason` says why. The client has its answer (504, 413) or is gone: the
// coroutine should just return. A coroutine that awaits anything besides the call's own
// awaitables must see that it ends too: the watchdog's shutdown waits for every frame to end.
//
// What the watchdog adds around the handler, as for make_function_mode: `max_body_size` (a
// declared Content-Length over it gets 413 before the handler is called; a chunked body that
// passes it while read gets 413 if no head was sent, else is cut short, and the call is
// cancelled with `body_too_large`), `exec_timeout` and `X-Timeout` (504), the access line,
// metrics, `max_inflight` and the drain.

#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "ofwatchdog/config.hpp"
#include "ofwatchdog/exchange.hpp"
#include "ofwatchdog/export.hpp"
#include "ofwatchdog/mode_strategy.hpp"

namespace ofwatchdog {

namespace detail {

// Whoever started a Task: told when the coroutine has run to its end, and destroys its frame.
class OFWATCHDOG_API TaskOwner {
public:
  // The coroutine returned (`error` empty) or threw. Its frame is suspended at its final point;
  // the owner destroys it, possibly within this call.
  virtual void task_ended(std::coroutine_handle<> frame, std::exception_ptr error) noexcept = 0;

protected:
  ~TaskOwner() = default;
};

// The library's way in to a Task's frame (defined in lib/functions/).
struct TaskAccess;

} // namespace detail

// The return type of a coroutine handler. It holds the frame, created suspended, until the mode
// takes it; a Task the mode never took destroys its frame without running it. Everything in it is
// inline, so it needs no export (and [[nodiscard]] cannot follow OFWATCHDOG_API).
class [[nodiscard]] Task {
public:
  class promise_type {
  public:
    Task get_return_object() noexcept {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    // Suspended at first: the mode starts it once it owns the frame and has set its owner.
    std::suspend_always initial_suspend() noexcept { return {}; }
    auto final_suspend() noexcept { return Final{}; }
    void return_void() noexcept {}
    // Kept for the owner: an exception must not unwind into the loop that resumed the frame.
    void unhandled_exception() noexcept { error_ = std::current_exception(); }

  private:
    friend struct detail::TaskAccess;
    // Stops at the end so that the owner, not the coroutine, decides when the frame goes.
    struct Final {
      bool await_ready() noexcept { return false; }
      void await_suspend(std::coroutine_handle<promise_type> frame) noexcept {
        promise_type& promise = frame.promise();
        promise.owner_->task_ended(frame, promise.error_);
      }
      void await_resume() noexcept {}
    };
    detail::TaskOwner* owner_ = nullptr;
    std::exception_ptr error_;
  };

  Task(Task&& other) noexcept : frame_(std::exchange(other.frame_, {})) {}
  Task& operator=(Task&&) = delete;
  ~Task() {
    if (frame_)
      frame_.destroy();
  }

private:
  friend struct detail::TaskAccess;
  explicit Task(std::coroutine_handle<promise_type> frame) noexcept : frame_(frame) {}

  std::coroutine_handle<promise_type> frame_;
};

// What `co_await call.read()` gives.
struct OFWATCHDOG_API BodyPiece {
  enum class Status {
    data,      // `data` holds the next bytes of the body (never empty)
    end,       // the whole body has been read
    cancelled, // the call is cancelled (see LoopCall::cancel_reason): return
  };
  Status status = Status::end;
  // Valid until the coroutine's next `co_await call.read()`.
  std::string_view data;
};

// One request served by a coroutine. Used on the loop thread, by the coroutine it was given to;
// valid until that coroutine ends.
class OFWATCHDOG_API LoopCall {
public:
  virtual ~LoopCall() = default;

  // The request head (its body is read with `read`).
  virtual const Request& request() const = 0;
  // The request's `X-Call-Id`, empty when it has none.
  virtual std::string_view call_id() const = 0;
  // Time left before `exec_timeout` (shortened by `X-Timeout`) ends the call, never negative;
  // nothing when no timeout applies.
  virtual std::optional<Duration> time_left() const = 0;
  // Why the call was cancelled; nothing while it was not.
  virtual std::optional<CancelReason> cancel_reason() const = 0;
  bool cancelled() const { return cancel_reason().has_value(); }
  // A line in the watchdog's log.
  virtual void log(std::string_view line) = 0;

  // The status and headers, checked with check_response_head (function.hpp): false, with
  // nothing sent and the reason logged, when they break a rule; false too once a head was sent
  // or the call is cancelled. `content_length` nothing: the body is streamed (chunked).
  virtual bool send_head(int status, HeaderList headers,
                         std::optional<std::uint64_t> content_length = std::nullopt) = 0;

  // The awaitables. Each is awaited at once (`co_await call.read()`), one at a time.
  class [[nodiscard]] ReadAwaiter {
  public:
    explicit ReadAwaiter(LoopCall& call) : call_(call) {}
    bool await_ready() { return call_.start_read(); }
    bool await_suspend(std::coroutine_handle<> frame) { return call_.suspend(frame); }
    BodyPiece await_resume() { return call_.read_result(); }

  private:
    LoopCall& call_;
  };
  class [[nodiscard]] WriteAwaiter {
  public:
    WriteAwaiter(LoopCall& call, std::string_view data) : call_(call), data_(data) {}
    bool await_ready() { return call_.start_write(data_); }
    bool await_suspend(std::coroutine_handle<> frame) { return call_.suspend(frame); }
    bool await_resume() { return call_.write_result(); }

  private:
    LoopCall& call_;
    std::string_view data_;
  };
  class [[nodiscard]] CancelAwaiter {
  public:
    explicit CancelAwaiter(LoopCall& call) : call_(call) {}
    bool await_ready() { return call_.start_cancel_wait(); }
    bool await_suspend(std::coroutine_handle<> frame) { return call_.suspend(frame); }
    CancelReason await_resume() { return *call_.cancel_reason(); }

  private:
    LoopCall& call_;
  };

  // The next piece of the request body. The body is read from the client only while the
  // coroutine awaits this, so a coroutine that is busy writing holds the client back.
  ReadAwaiter read() { return ReadAwaiter(*this); }
  // Queues `data` (copied; a 200 with a streamed body goes first if no head was sent), then
  // waits while the client is behind. True when the coroutine may go on; false when the call is
  // cancelled, or when `data` would pass the declared Content-Length (nothing is sent then).
  WriteAwaiter write(std::string_view data) { return WriteAwaiter(*this, data); }
  // Waits until the call is cancelled, for whatever reason, and gives the reason: for a request
  // held open until its deadline or until its client leaves.
  CancelAwaiter cancellation() { return CancelAwaiter(*this); }

protected:
  // The awaitables' steps, implemented by the mode. `start_*` returns true when the result is
  // ready without waiting; `suspend` returns false when it became ready meanwhile.
  virtual bool start_read() = 0;
  virtual BodyPiece read_result() = 0;
  virtual bool start_write(std::string_view data) = 0;
  virtual bool write_result() = 0;
  virtual bool start_cancel_wait() = 0;
  virtual bool suspend(std::coroutine_handle<> frame) = 0;
};

using CoroutineHandler = std::function<Task(LoopCall&)>;

// A ModeStrategy for `Watchdog(config, mode)` that serves every request with a coroutine from
// `handler`. The handler (and whatever it captures) lives as long as the mode.
OFWATCHDOG_API std::unique_ptr<ModeStrategy> make_coroutine_mode(CoroutineHandler handler);

} // namespace ofwatchdog
