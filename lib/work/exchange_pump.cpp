#include "work/exchange_pump.hpp"

#include <string>

namespace ofwatchdog::work {

void ExchangePump::start(std::shared_ptr<Exchange> exchange, std::shared_ptr<WorkLink> link,
                         WorkDone done) {
  auto* pump = new ExchangePump(std::move(exchange), std::move(link), std::move(done));
  pump->link_->pump = pump;
  pump->exchange_->set_handler(pump);
}

ExchangePump::ExchangePump(std::shared_ptr<Exchange> exchange, std::shared_ptr<WorkLink> link,
                           WorkDone done)
    : exchange_(std::move(exchange)), link_(std::move(link)), done_(std::move(done)) {}

void ExchangePump::on_body(std::string_view data) {
  loop_thread_.check("ExchangePump::on_body");
  if (link_->input.push(data) && !body_paused_) {
    body_paused_ = true;
    exchange_->pause_body();
  }
}

void ExchangePump::on_body_end() {
  loop_thread_.check("ExchangePump::on_body_end");
  link_->input.close_write();
}

void ExchangePump::on_writable() {
  loop_thread_.check("ExchangePump::on_writable");
  waiting_writable_ = false;
  service();
}

void ExchangePump::on_cancel(CancelReason reason) {
  loop_thread_.check("ExchangePump::on_cancel");
  // The exchange is over and calls nothing more on us; the worker still has the link, so the
  // pump lives on until the worker has seen the cancellation and returned.
  exchange_open_ = false;
  attached_ = false;
  link_->token.trip(reason);
  service();
}

void ExchangePump::shut_down() {
  loop_thread_.check("ExchangePump::shut_down");
  link_->token.trip(CancelReason::shutdown);
  service();
}

void ExchangePump::service() {
  loop_thread_.check("ExchangePump::service");
  if (completed_)
    return;
  // A cancelled or failed request ends as soon as its worker is done, even while the pump
  // waits for the socket: its unsent output is dropped.
  bool stopped = !exchange_open_ || link_->token.cancelled() || link_->failed();
  if (stopped && link_->worker_done()) {
    complete();
    return;
  }
  if (!exchange_open_)
    return;
  if (body_paused_ && link_->input.drained()) {
    body_paused_ = false;
    exchange_->resume_body();
  }
  if (!waiting_writable_)
    move_output();
}

bool ExchangePump::send_head_if_set() {
  std::optional<ResponseHead> head = link_->take_head();
  if (!head)
    return false;
  exchange_->send_head(std::move(*head));
  head_sent_ = true;
  return true;
}

void ExchangePump::move_output() {
  for (;;) {
    // The head is looked at before and after each pull: before, so a head goes out while the
    // worker is still computing its body; after, because the worker sets the head before its
    // first byte, so a pulled byte proves the head is in the link by now.
    if (!head_sent_)
      send_head_if_set();
    std::string piece;
    switch (link_->output.pull(piece)) {
    case ByteChannel::Status::ok:
      if (!head_sent_ && !send_head_if_set()) {
        exchange_->send_head(ResponseHead{});
        head_sent_ = true;
      }
      if (!exchange_->send_body(piece)) {
        waiting_writable_ = true;
        return;
      }
      break;
    case ByteChannel::Status::empty:
      return; // the channel wakes the link when the worker writes or ends
    case ByteChannel::Status::end:
      // The output ends only in `end_work`, after the outcome was recorded.
      if (link_->outcome().kind == WorkOutcome::Kind::finished) {
        exchange_->finish();
        exchange_open_ = false;
      }
      complete();
      return;
    case ByteChannel::Status::cancelled:
      if (link_->worker_done())
        complete();
      return; // otherwise `end_work` wakes the link again
    }
  }
}

void ExchangePump::complete() {
  completed_ = true;
  WorkOutcome outcome = link_->outcome();
  if (attached_) {
    // Body bytes still on their way must not reach a deleted handler.
    exchange_->set_handler(nullptr);
    if (exchange_open_) {
      // The job committed its head when it set it, whether or not the loop had sent it yet: a
      // job that then fails (or is stopped) cuts that response short instead of answering
      // anew, so a client never gets a clean 500 for a response the job had begun. The
      // output still in the link was dropped when the job failed.
      if (!head_sent_)
        send_head_if_set();
      if (head_sent_)
        exchange_->abort();
    }
  }
  outcome.response_started = head_sent_;
  link_->pump = nullptr;
  WorkDone done = std::move(done_);
  delete this;
  done(outcome);
}

void answer_unfinished(Exchange& exchange, const WorkOutcome& outcome) {
  if (exchange.done() || outcome.kind == WorkOutcome::Kind::finished)
    return;
  if (exchange.head_sent()) {
    exchange.abort();
    return;
  }
  int status = outcome.kind == WorkOutcome::Kind::failed ? 500 : 503;
  std::string text = outcome.kind == WorkOutcome::Kind::failed
                         ? outcome.error
                         : std::string(cancel_reason_text(outcome.reason));
  exchange.send_head({status, {{"Content-Type", "text/plain; charset=utf-8"}}, text.size()});
  exchange.send_body(text);
  exchange.finish();
}

} // namespace ofwatchdog::work
