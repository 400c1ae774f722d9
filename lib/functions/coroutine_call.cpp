// CoroutineCall: see coroutine_call.hpp.
#include "functions/coroutine_call.hpp"

#include <chrono>
#include <utility>

#include <fmt/format.h>

#include "modes/body_limit.hpp"

namespace ofwatchdog::detail {

struct TaskAccess {
  // Takes the frame out of `task`, to report to `owner`; null when the task holds none.
  static std::coroutine_handle<> take(Task& task, TaskOwner* owner) {
    std::coroutine_handle<Task::promise_type> frame = std::exchange(task.frame_, {});
    if (frame)
      frame.promise().owner_ = owner;
    return frame;
  }
};

} // namespace ofwatchdog::detail

namespace ofwatchdog::functions {

namespace {

std::string describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

} // namespace

CoroutineCall::CoroutineCall(std::shared_ptr<Exchange> exchange, Logger& log, CallSetup setup,
                             Ended ended)
    : exchange_(std::move(exchange)), log_(log), setup_(setup), ended_(std::move(ended)) {}

CoroutineCall::~CoroutineCall() {
  // Only when the mode goes away with calls still live (a watchdog destroyed without being
  // stopped): the frame goes with its call, and the exchange must not call back into us.
  if (frame_state_ == Frame::live)
    frame_.destroy();
  if (response_ != Response::over)
    exchange_->set_handler(nullptr);
}

void CoroutineCall::start(const CoroutineHandler& handler) {
  std::shared_ptr<CoroutineCall> self = shared_from_this();
  exchange_->set_handler(this);
  // The body flows only while the coroutine awaits a read.
  exchange_->pause_body();
  std::exception_ptr error;
  try {
    Task task = handler(*this);
    frame_ = detail::TaskAccess::take(task, this);
  } catch (...) {
    error = std::current_exception();
  }
  if (!frame_) {
    frame_state_ = Frame::destroyed;
    fail(error ? describe(error) : "the handler returned no coroutine");
    end();
    return;
  }
  frame_state_ = Frame::live;
  frame_.resume();
}

void CoroutineCall::cancel(CancelReason reason) {
  if (cancel_)
    return;
  if (response_ != Response::over) {
    exchange_->set_handler(nullptr);
    exchange_->abort();
    response_ = Response::over;
  }
  cancelled(reason);
}

std::string_view CoroutineCall::call_id() const {
  const std::string* id = request().header("X-Call-Id");
  return id ? std::string_view(*id) : std::string_view();
}

std::optional<Duration> CoroutineCall::time_left() const {
  if (!setup_.deadline)
    return std::nullopt;
  auto left = *setup_.deadline - std::chrono::steady_clock::now();
  return std::max(Duration::zero(), std::chrono::duration_cast<Duration>(left));
}

bool CoroutineCall::send_head(int status, HeaderList headers,
                              std::optional<std::uint64_t> content_length) {
  if (cancel_ || response_ != Response::no_head)
    return false;
  if (auto wrong = check_response_head(status, headers)) {
    log_.info(fmt::format("Function's response head refused: {}", *wrong));
    return false;
  }
  body_left_ = content_length;
  response_ = Response::head_sent;
  exchange_->send_head({status, std::move(headers), content_length});
  return true;
}

// --- the awaitables ---------------------------------------------------------------------------

bool CoroutineCall::start_read() {
  piece_.clear(); // the previous piece's view ends here, as documented
  if (std::optional<BodyPiece::Status> ready = ready_read()) {
    read_status_ = *ready;
    return true;
  }
  await_ = Await::read;
  return false;
}

std::optional<BodyPiece::Status> CoroutineCall::ready_read() {
  if (cancel_)
    return BodyPiece::Status::cancelled;
  if (!pending_.empty()) {
    piece_.swap(pending_); // both keep their capacity: no allocation per piece
    pending_.clear();
    return BodyPiece::Status::data;
  }
  if (body_ == Body::ended)
    return BodyPiece::Status::end;
  return std::nullopt;
}

BodyPiece CoroutineCall::read_result() {
  if (read_status_ == BodyPiece::Status::data)
    return {read_status_, piece_};
  return {read_status_, {}};
}

bool CoroutineCall::start_write(std::string_view data) {
  write_ok_ = false;
  if (cancel_ || response_ == Response::over)
    return true;
  if (response_ == Response::no_head) {
    response_ = Response::head_sent;
    exchange_->send_head({200, {}, std::nullopt});
  }
  if (body_left_) {
    if (data.size() > *body_left_)
      return true;
    *body_left_ -= data.size();
  }
  if (data.empty() || exchange_->send_body(data)) {
    write_ok_ = true;
    return true;
  }
  // Behind: wait for on_writable, unless the write itself ended the call.
  if (cancel_)
    return true;
  write_ok_ = true;
  await_ = Await::write;
  return false;
}

bool CoroutineCall::start_cancel_wait() {
  if (cancel_)
    return true;
  await_ = Await::cancel;
  return false;
}

bool CoroutineCall::suspend(std::coroutine_handle<> frame) {
  waiter_ = frame;
  suspending_ = true;
  if (await_ == Await::read)
    exchange_->resume_body();
  suspending_ = false;
  if (await_ == Await::nothing) {
    waiter_ = {};
    return false; // the result came while we were resuming the body
  }
  return true;
}

void CoroutineCall::wake() {
  if (await_ == Await::nothing)
    return;
  await_ = Await::nothing;
  if (suspending_)
    return; // `suspend` sees it and lets the coroutine go on
  // The coroutine may end, and the mode let go of this call, before resume returns.
  std::shared_ptr<CoroutineCall> self = shared_from_this();
  std::exchange(waiter_, {}).resume();
}

// --- the exchange's events ------------------------------------------------------------------

void CoroutineCall::on_body(std::string_view data) {
  body_read_ += data.size();
  if (setup_.max_body_size != 0 && body_read_ > setup_.max_body_size) {
    refuse_body();
    return;
  }
  // Held until a read takes it. Paused (again): what the server had read before it was paused
  // may still come, but no more.
  pending_.append(data);
  exchange_->pause_body();
  if (await_ == Await::read) {
    read_status_ = *ready_read();
    wake();
  }
}

void CoroutineCall::on_body_end() {
  body_ = Body::ended;
  if (await_ == Await::read) {
    read_status_ = *ready_read();
    wake();
  }
}

void CoroutineCall::on_writable() {
  if (await_ == Await::write)
    wake(); // write_ok_ is already true
}

void CoroutineCall::on_cancel(CancelReason reason) {
  // The exchange has let go of us and answers for itself (504) or has no client left.
  response_ = Response::over;
  cancelled(reason);
}

void CoroutineCall::cancelled(CancelReason reason) {
  if (cancel_)
    return;
  cancel_ = reason;
  if (await_ == Await::read)
    read_status_ = BodyPiece::Status::cancelled;
  write_ok_ = false;
  wake();
}

void CoroutineCall::refuse_body() {
  std::string text = modes::body_too_large_text(setup_.max_body_size);
  log_.info(text);
  if (response_ == Response::no_head) {
    modes::send_refusal(*exchange_, 413, text);
  } else {
    exchange_->set_handler(nullptr);
    exchange_->abort(); // the head is out: the response is cut short
  }
  response_ = Response::over;
  cancelled(CancelReason::body_too_large);
}

// --- the end ----------------------------------------------------------------------------------

void CoroutineCall::task_ended(std::coroutine_handle<> frame, std::exception_ptr error) noexcept {
  frame.destroy();
  frame_ = {};
  frame_state_ = Frame::destroyed;
  if (error)
    fail(describe(error));
  end();
}

void CoroutineCall::fail(std::string_view why) {
  log_.info(fmt::format("Function failed: {}", why));
  if (response_ == Response::over)
    return;
  exchange_->set_handler(nullptr);
  if (response_ == Response::no_head)
    send_whole_response(*exchange_, 500, {{"Content-Type", "text/plain; charset=utf-8"}},
                        kFailureText);
  else
    exchange_->abort();
  response_ = Response::over;
}

void CoroutineCall::end() {
  if (response_ != Response::over) {
    // What is left of the body is the server's to discard (or to close the connection on).
    exchange_->set_handler(nullptr);
    exchange_->finish();
    response_ = Response::over;
  }
  ended_(*this);
}

} // namespace ofwatchdog::functions
