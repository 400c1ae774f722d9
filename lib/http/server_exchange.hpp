#pragma once
// The Exchange the server hands out: one request and the state of its response.
//
// It talks to its connection only through ExchangeConnection (exchange_connection.hpp), by a
// pointer that the connection clears (`detach`) when it goes away; from then on every response
// call is ignored, so a mode holding the exchange longer than the connection lives is harmless.
//
// A 101 answer to a request that asked to upgrade turns the exchange into a tunnel: the head is
// sent with the handler's Connection/Upgrade headers, send_body writes raw bytes, and the
// connection feeds the client's raw bytes to the handler as body (see server.hpp).
//
// It implements the kernel-moved bodies of the Exchange contract: `send_file` through the
// connection's FileSender (sendfile on the thread pool), and `splice_from` / `splice_body_to`
// with a BodySplice of its own between the socket and the caller's pipe
// (server_exchange_splice.cpp).

#include <cstdint>
#include <functional>
#include <vector>

#include "http/body_splice.hpp"
#include "http/exchange_connection.hpp"
#include "http/response_writer.hpp"
#include "http/server.hpp"

namespace ofwatchdog::http {

class ServerExchangeImpl final : public ServerExchange {
public:
  ServerExchangeImpl(ExchangeConnection* connection, Request request, bool expects_continue,
                     bool upgrade_request);
  ~ServerExchangeImpl() override;

  // Exchange
  const Request& request() const override { return request_; }
  uv_loop_s* loop() const override { return loop_; }
  void set_handler(ExchangeHandler* handler) override;
  bool defer_continue() override;
  void send_continue() override;
  void pause_body() override;
  void resume_body() override;
  void send_head(ResponseHead head) override;
  bool send_body(std::string_view data) override;
  void finish() override;
  void abort() override;
  bool head_sent() const override {
    return output_ != Output::none && output_ != Output::ended_headless;
  }
  int status() const override { return status_; }
  std::uint64_t body_bytes_sent() const override { return body_bytes_; }
  bool done() const override {
    return output_ == Output::ended || output_ == Output::ended_headless;
  }
  // ServerExchange
  void on_done(std::function<void(const Exchange&)> callback) override;
  // Kernel-moved bodies (server_exchange_splice.cpp for the two splices)
  bool send_file(int fd, std::uint64_t offset, std::uint64_t length, TransferDone done) override;
  bool splice_from(int pipe_fd, TransferDone done) override;
  bool splice_body_to(int pipe_fd, TransferDone done) override;

  // --- the connection's side -------------------------------------------------------------
  // The connection should parse body bytes for this exchange now.
  bool wants_body() const { return !done() && handler_ != nullptr && !body_paused_; }
  // The client asked for 100 Continue and has not been sent it: it may still be holding its body.
  bool continue_pending() const {
    return continue_ == Continue::automatic || continue_ == Continue::deferred;
  }
  // A 101 was sent for an upgrade request: everything after the head is raw bytes.
  bool tunnel() const { return framing_.tunnel; }
  void deliver_body(std::string_view data);
  void deliver_body_end();
  // The write queue fell below the low-water mark.
  void deliver_writable();
  // Ends the exchange without finish/abort; the handler gets on_cancel.
  void cancel(CancelReason reason);
  void detach() { connection_ = nullptr; }
  // A file transfer handed `bytes` to the kernel / ended (not called once it was cancelled).
  void file_progress(std::uint64_t bytes);
  void file_finished(int status);

  // Send_body reports false above this many queued bytes; on_writable comes below the low mark.
  static constexpr std::size_t kHighWater = 256 * 1024;
  static constexpr std::size_t kLowWater = 64 * 1024;

private:
  // The response: nothing sent yet, then the head, after which the body goes out through the
  // write queue (send_body) or, one at a time, as a file (send_file) or a splice (splice_from),
  // each returning to `head` when its TransferDone runs; the exchange ends from any of them.
  // Every legal move is in move_to (server_exchange.cpp).
  //
  //   none -> head <-> file | splice
  //     |      \-------------------> ended           (from file and splice as well)
  //     \--> ended_headless
  enum class Output : std::uint8_t {
    none,           // nothing of the response is queued
    head,           // the head is queued; body bytes go through the write queue
    file,           // send_file runs: nothing else may be sent until its TransferDone
    splice,         // splice_from runs: nothing else may be sent until its TransferDone
    ended,          // finished, aborted or cancelled after the head went out
    ended_headless, // aborted or cancelled before any head
  };
  // The request body as the handler sees it: unclaimed until a handler is set, then read through
  // on_body (while not paused) or spliced to a pipe (splice_body_to; back to `read` when the
  // splice stops short), and ended once on_body_end (or the splice's end) came.
  enum class Input : std::uint8_t { unclaimed, read, spliced, ended };
  void move_to(Output next);
  void move_to(Input next);
  // finish and abort: ends the response and runs the on_done callbacks.
  void mark_done();
  // Ends the response (ended or ended_headless), dropping the handler and stopping a file or a
  // spliced body still being sent; `cancel_file` says whether the connection must be told.
  void end_output(bool cancel_file);
  void run_done_callbacks();
  bool can_send_file() const;
  void on_output_splice_done(int status);
  void on_body_splice_done(int status);
  // Stops a splice that is still running (the exchange ended first) and frees it once closed.
  void stop_output_splice();
  void stop_body_splice();
  static void retire(std::unique_ptr<BodySplice> splice);

  ExchangeConnection* connection_;
  uv_loop_s* loop_;
  Request request_;
  ExchangeHandler* handler_ = nullptr;
  // Where the client's `Expect: 100-continue` stands. It starts as `automatic` or `none`;
  // defer_continue moves `automatic` to `deferred` before a handler is set, and send_continue
  // moves either to `sent`. Nothing else changes it.
  enum class Continue : std::uint8_t {
    none,      // the client did not ask (or has no body to hold back)
    automatic, // the client waits; set_handler sends the 100
    deferred,  // the client waits; the handler sends the 100 (send_continue)
    sent,      // the 100 went out
  };
  Continue continue_;
  Output output_ = Output::none;
  Input input_ = Input::unclaimed;
  // Facts that hold independently of the states above.
  bool upgrade_request_;        // the request asked to upgrade (a 101 may make a tunnel)
  bool body_paused_ = false;    // the handler asked for no more body for now
  bool wants_writable_ = false; // send_body said "full": the handler waits for on_writable
  bool output_torn_ = false;    // a spliced body was stopped, maybe inside a chunk
  int status_ = 0;
  std::uint64_t body_bytes_ = 0;
  std::uint64_t framed_bytes_ = 0; // body bytes actually put on the wire
  Framing framing_;
  std::uint64_t file_sent_ = 0;
  TransferDone file_done_;
  // A splice runs while its pointer is set (output_ splice, input_ spliced); its TransferDone
  // is the caller's.
  std::unique_ptr<BodySplice> output_splice_;
  std::uint64_t output_spliced_ = 0;
  TransferDone output_done_;
  std::unique_ptr<BodySplice> body_splice_;
  std::uint64_t body_spliced_ = 0;
  TransferDone body_done_;
  std::vector<std::function<void(const Exchange&)>> done_callbacks_;
};

} // namespace ofwatchdog::http
