#pragma once
// One http-mode request: the client's exchange proxied to the upstream over a pooled
// connection (docs/http-mode.md; the proxy-* rules and x-timeout of docs/decisions.md).
//
// Flow. The exec-timeout clock starts at once. The request head goes to an idle pooled
// connection, or a new one; the body follows as it arrives (Content-Length as the client sent
// it, chunked only for a chunked request), or, with `http_buffer_req_body`, is read whole first
// and sent with a Content-Length. The response head is relayed with hop-by-hop headers dropped
// and `X-Duration-Seconds` set; its body is relayed as it arrives, every read at once, so each
// SSE event or NDJSON line reaches the client without delay. Backpressure both ways: the client
// body pauses while the upstream socket is behind, the upstream is not read while the client
// socket is behind.
//
// Expect: 100-continue. A client that waits for the go-ahead before sending its body gets it
// from the upstream: the request goes upstream with `Expect: 100-continue`, and the upstream's
// `100 Continue` is relayed, or its final response if it answers without wanting the body (the
// client then never sends it, and its connection ends with that response). Servers treat a body
// differently when its client waits: Go's, for one, drops part of a chunked body that its
// handler starts answering before it has read it whole, unless the request carried the
// expectation. So the expectation must reach the upstream as the client sent it. An upstream
// that says nothing for `kContinueWait` after the head is taken to want the body anyway: the
// client is told to go on then, so neither side waits for the other. A body that is buffered
// first (`http_buffer_req_body`) is asked for by the watchdog itself, and goes without the
// expectation.
//
// Failures. Before response headers: 502 (the upstream refused, reset or closed) or 504 (the
// timeout), empty, with `X-OpenFaaS-Internal: of-watchdog`. After them: the response is
// aborted, so the client sees it was cut short. A reused connection that fails before any
// response byte, for an idempotent request whose body (if any) is still at hand, is retried once
// on a fresh connection: the upstream closing an idle connection just as it is reused is a
// race no client should see.
//
// Body limit. A Content-Length over `max_body_size` is a 413 before anything is sent upstream;
// with `http_buffer_req_body`, a chunked body is a 413 as soon as the buffer passes the limit.
// A chunked body that is streamed (no buffering) is not limited: it passes in constant memory.
//
// The timeout bounds the whole exchange, except for streams (`text/event-stream` or
// `application/x-ndjson` asked for or answered, protocol switches), which it bounds only until
// the response headers.
//
// Its mode's registry owns it (request_job.hpp): it finishes once the exchange is over, and
// RequestJob destroys it after the callback that finished it has returned.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include <uv.h>

#include "modes/exec_deadline.hpp"
#include "ofwatchdog/exchange.hpp"
#include "ofwatchdog/mode_strategy.hpp"
#include "ofwatchdog/request_job.hpp"
#include "upstream/proxy_headers.hpp"
#include "upstream/upstream_connection.hpp"
#include "upstream/upstream_pool.hpp"

namespace ofwatchdog::modes {

class HttpProxyExchange;

// The status as the access line writes it: "200 OK", or "200" when the upstream gave no
// reason.
std::string upstream_status_line(int status, std::string_view reason);

class HttpProxyExchange final : public RequestJob, private upstream::UpstreamConnection::Listener {
public:
  // Serves `exchange`; everything after this happens in callbacks. `pool` must outlive every
  // exchange (the mode waits for the registry to empty before it goes).
  static void start(const ModeContext& context, upstream::UpstreamPool& pool,
                    std::shared_ptr<Exchange> exchange, std::shared_ptr<JobRegistry> registry);

  // How long a client waiting for `100 Continue` waits on an upstream that has answered
  // nothing; then the watchdog tells it to go on. As long as the original's client waited for
  // its upstream's go-ahead.
  static constexpr Duration kContinueWait = std::chrono::milliseconds(1500);

  // The watchdog is stopping: end the exchange now.
  void shut_down() override;

  // ExchangeHandler: the client side.
  void on_body(std::string_view data) override;
  void on_body_end() override;
  void on_writable() override;
  void on_cancel(CancelReason reason) override;

private:
  HttpProxyExchange(const ModeContext& context, upstream::UpstreamPool& pool,
                    std::shared_ptr<Exchange> exchange, std::shared_ptr<JobRegistry> registry);
  ~HttpProxyExchange() override;

  // RequestJob: the 413 (declared, or a buffered body past the limit) and the exec deadline.
  void on_refused(int status, const std::string& text) override;
  void on_deadline() override;

  void run();
  void connect_upstream(bool allow_reuse);
  void send_request();
  void send_body_piece(std::string_view data);
  void end_request_body();
  // The client may send its body now (the upstream said so, or stayed silent too long).
  void let_client_continue();
  bool can_retry(const upstream::UpstreamConnection& failed) const;
  void on_timeout();
  void fail_before_headers(int status, const std::string& cause, bool timed_out);
  void drop_connection();
  void log_upstream_error(std::string_view cause);
  void complete();
  void write_access_line();
  void release();

  // UpstreamConnection::Listener
  void on_connected(const std::string& error) override;
  void on_response_head(upstream::UpstreamResponse& response) override;
  void on_continue() override;
  // An upstream response without Content-Type gets one sniffed from its first body bytes
  // (docs/decisions.md, go-server-behaviour), so its head waits for them (or for the end of an
  // empty body).
  bool needs_sniffing(const upstream::UpstreamResponse& response) const;
  void send_held_head(std::string_view first_bytes);
  void on_response_body(std::string_view data) override;
  void on_response_end() override;
  void on_failure(const std::string& cause) override;
  void on_write_drained() override;

  upstream::UpstreamPool& pool_;

  // Fixed when the request arrives.
  const bool buffering_;      // http_buffer_req_body with a body: read it all, then connect
  const bool stream_request_; // a stream asked for (Accept, Upgrade): timed until its head

  upstream::BodyFraming framing_;
  std::string body_; // the buffered body, or bytes that came before the connection

  // The request on its way upstream, as two facts: has its head gone on `connection_`, and has
  // the client's body all arrived. Only `move_request` changes it; the legal moves:
  //   holding   -> streaming (head sent) | held (body ended)
  //   held      -> sent (head sent)
  //   streaming -> sent (body ended)     | holding (connection dropped)
  //   sent      -> held (dropped)        | streaming (a 101: the client's side of the tunnel)
  enum class RequestLeg : std::uint8_t { holding, held, streaming, sent };
  RequestLeg request_leg_ = RequestLeg::holding;
  void move_request(RequestLeg to);
  bool request_head_sent() const {
    return request_leg_ == RequestLeg::streaming || request_leg_ == RequestLeg::sent;
  }
  bool client_body_ended() const {
    return request_leg_ == RequestLeg::held || request_leg_ == RequestLeg::sent;
  }

  // The client's `Expect: 100-continue`, when the upstream is the one to answer it: `none`
  // when there is nothing to relay (no expectation, or the watchdog answers it itself),
  // `waiting` from the start until the upstream's 100 or final response or `continue_wait_`,
  // then `answered`.
  enum class Expectation : std::uint8_t { none, waiting, answered };
  Expectation expectation_ = Expectation::none;
  ExecDeadline continue_wait_;

  upstream::UpstreamConnection* connection_ = nullptr;
  // Which connection the request is on: a new one, an idle one from the pool (which the upstream
  // may close just as it is reused), or the new one of the single retry.
  enum class Attempt : std::uint8_t { fresh, reused, retry };
  Attempt attempt_ = Attempt::fresh;
  // Backpressure, one flag per direction: the client's body waits for the upstream socket, the
  // upstream's response waits for the client socket.
  bool client_paused_ = false;
  bool upstream_paused_ = false;

  // What the upstream has answered: nothing yet (a failure can still be retried or become a
  // 502), a response message, or a 101 that made the exchange a tunnel (raw bytes both ways).
  enum class Reply : std::uint8_t { none, message, tunnel };
  Reply reply_ = Reply::none;
  std::string status_line_; // for the access line; empty until a response exists
  std::int64_t declared_length_ = -1;
  double header_seconds_ = 0;
  std::optional<ResponseHead> held_head_; // waiting for the first body bytes to be sniffed

  // The client's side: open (nothing ended it yet), closed (answered, refused, aborted or
  // cancelled: nothing more may be sent), complete (logged and released; the job is finished).
  // open -> closed -> complete, nothing else.
  enum class Answer : std::uint8_t { open, closed, complete };
  Answer answer_ = Answer::open;
  bool response_open() const { return answer_ == Answer::open; }
  // Closes the client's side; true when it was open, so the caller still has to end it.
  bool close_answer();
};

} // namespace ofwatchdog::modes
