#pragma once
// The loop's side of a request served on a worker: binds one Exchange to the request's link.
//
// It is the exchange's handler. Request body goes into the input channel; when that holds its
// high watermark the pump pauses the body, and resumes it once the worker has read it down to
// the low one. Response output comes out of the output channel: the head first, then pieces
// through `send_body`; when that says the socket is behind, the pump stops pulling until
// `on_writable`, the channel fills, and the worker blocks in its write. When the exchange is
// cancelled, the pump trips the token, which fails both channels and wakes the worker.
//
// Only the pump calls the exchange, and only on the loop thread (checked on every call).
// It owns itself: it ends once the worker is done with the link and the exchange is finished,
// aborted or cancelled, reporting the outcome to `done`.

#include <memory>

#include "ofwatchdog/exchange.hpp"
#include "ofwatchdog/worker_pool.hpp"
#include "work/loop_thread.hpp"
#include "work/work_link.hpp"

namespace ofwatchdog::work {

class ExchangePump final : public ExchangeHandler {
public:
  // Loop thread. Becomes `exchange`'s handler (the body starts arriving). `done` is required.
  static void start(std::shared_ptr<Exchange> exchange, std::shared_ptr<WorkLink> link,
                    WorkDone done);

  // Loop thread: the link's state changed (called through `WorkLink::wake`).
  void service();
  // Loop thread: the pool is stopping; trips the token and ends as soon as the worker is done.
  void shut_down();

  void on_body(std::string_view data) override;
  void on_body_end() override;
  void on_writable() override;
  void on_cancel(CancelReason reason) override;

private:
  ExchangePump(std::shared_ptr<Exchange> exchange, std::shared_ptr<WorkLink> link, WorkDone done);

  // Moves output to the exchange until the channel is empty or the socket is behind.
  void move_output();
  bool send_head_if_set();
  // Ends the exchange (when it is still open) as the outcome says, and the pump with it.
  void complete();

  LoopThread loop_thread_;
  std::shared_ptr<Exchange> exchange_;
  std::shared_ptr<WorkLink> link_;
  WorkDone done_;
  bool exchange_open_ = true; // not finished, aborted or cancelled
  bool attached_ = true;      // the pump is still the exchange's handler (no on_cancel yet)
  bool body_paused_ = false;
  bool waiting_writable_ = false;
  bool head_sent_ = false;
  bool completed_ = false;
};

// What a request whose job failed or was cancelled gets when the caller left the answer to the
// pool: 500 with the error if no response started, an aborted response otherwise.
void answer_unfinished(Exchange& exchange, const WorkOutcome& outcome);

} // namespace ofwatchdog::work
