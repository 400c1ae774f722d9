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
// The object owns itself and is deleted once the exchange is over and its timer has closed;
// nothing is deleted inside its own call stack (see `Entry`).

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
#include "util/call_depth_guard.hpp"
#include "ofwatchdog/mode_strategy.hpp"
#include "ofwatchdog/request_job.hpp"
#include "upstream/proxy_headers.hpp"
#include "upstream/upstream_connection.hpp"
#include "upstream/upstream_pool.hpp"

namespace ofwatchdog::modes {

class HttpProxyExchange;

class HttpProxyExchange final : public RequestJob,
                                private upstream::UpstreamConnection::Listener {
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
  // Every entry point holds one: see util/call_depth_guard.hpp.
  using Entry = CallDepthGuard<HttpProxyExchange>;
  friend class CallDepthGuard<HttpProxyExchange>;

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
  void destroy_if_finished();

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
  std::string url_text_; // for log lines

  upstream::BodyFraming framing_;
  bool buffering_ = false;  // http_buffer_req_body with a body: read it all, then connect
  std::string body_;        // the buffered body, or bytes that came before the connection
  bool body_ended_ = false; // the client's body has been fully received
  bool stream_request_ = false;

  // The client's `Expect: 100-continue`, when the upstream is the one to answer it: `none`
  // when there is nothing to relay (no expectation, or the watchdog answers it itself),
  // `waiting` from the start until the upstream's 100 or final response or `continue_wait_`,
  // then `answered`.
  enum class Expectation : std::uint8_t { none, waiting, answered };
  Expectation expectation_ = Expectation::none;
  ExecDeadline continue_wait_;

  upstream::UpstreamConnection* connection_ = nullptr;
  bool connected_ = false; // the request head is on its way on `connection_`
  bool reused_ = false;
  bool retried_ = false;
  bool client_paused_ = false;
  bool upstream_paused_ = false;

  // What the upstream has answered: nothing yet (a failure can still be retried or become a
  // 502), a response message, or a 101 that made the exchange a tunnel (raw bytes both ways).
  enum class Reply : std::uint8_t { none, message, tunnel };
  Reply reply_ = Reply::none;
  std::string status_line_; // for the access line; empty until a response exists
  std::int64_t declared_length_ = -1;
  double header_seconds_ = 0;

  int closes_pending_ = 0;
  int depth_ = 0;
  bool response_open_ = true; // false once the exchange is answered or cancelled
  std::optional<ResponseHead> held_head_; // waiting for the first body bytes to be sniffed
  bool completed_ = false;
};

} // namespace ofwatchdog::modes
