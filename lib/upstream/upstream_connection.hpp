#pragma once
// One TCP connection to the upstream: connecting, sending one request at a time and parsing its
// response, then waiting idle in the pool. After a `101 Switching Protocols` it becomes a raw
// byte tunnel.
//
// Lifetime: `open` returns a heap object that owns itself. Its user calls `close` when done
// with it (or gives it back to the pool); from then on nothing is reported to anyone, and the
// object frees itself once libuv has closed its handles and finished its requests.
//
// Errors are never reported from inside a call the user made: only from libuv callbacks.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include <uv.h>

#include "upstream/response_parser.hpp"
#include "upstream/upstream_url.hpp"

namespace ofwatchdog::upstream {

class UpstreamConnection : private ResponseEvents {
public:
  class Listener {
  public:
    virtual ~Listener() = default;
    // The connect finished: `error` is empty on success, else the cause (`dial tcp …`).
    virtual void on_connected(const std::string& error) = 0;
    virtual void on_response_head(UpstreamResponse& response) = 0;
    // The upstream sent `100 Continue` before its final response.
    virtual void on_continue() {}
    // Body bytes of the response, or raw bytes of a tunnel.
    virtual void on_response_body(std::string_view data) = 0;
    // The response is complete (a tunnel: the upstream closed its side).
    virtual void on_response_end() = 0;
    // The connection failed; `cause` is the text for the log.
    virtual void on_failure(const std::string& cause) = 0;
    // The bytes queued for the upstream fell below the low-water mark after being above the
    // high-water mark.
    virtual void on_write_drained() = 0;
  };

  // Above this many queued request bytes the request body should pause; below the low mark
  // it may resume.
  static constexpr std::size_t kWriteHighWater = 256 * 1024;
  static constexpr std::size_t kWriteLowWater = 64 * 1024;
  // The largest response head accepted, as the server's limit for requests.
  static constexpr std::size_t kMaxHeadBytes = 1 << 20;
  // The size of each read from the upstream.
  static constexpr unsigned kReadBufferSize = 256 * 1024;

  // Starts connecting to `url`; the result goes to `listener->on_connected`.
  static UpstreamConnection* open(uv_loop_t* loop, const UpstreamUrl& url, Listener* listener);

  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

  // When a request head goes out. A head followed by a body waits for the body's first piece,
  // so both leave in one write: one system call and one loopback delivery fewer per request,
  // and a client that leaves before sending any of its body costs the upstream nothing.
  enum class HeadTiming : std::uint8_t {
    now,             // no body follows, or the upstream must see the head first (100-continue)
    with_first_body, // held until the first `write`, `set_request_complete` or `shutdown_write`
  };

  // Sends a request head (and later its body with `write`) and reads the response.
  void begin(Listener* listener, std::string_view method, std::string head,
             HeadTiming timing = HeadTiming::now);
  // Sends the pieces in order: at once as far as the socket takes them (when nothing of ours is
  // queued), the rest copied into one write request.
  void write(std::initializer_list<std::string_view> pieces);
  void write(std::string_view data) { write({data}); }
  std::size_t queued_bytes() const { return queued_bytes_; }
  // Half-closes the connection: the tunnelled client has nothing more to send.
  void shutdown_write();

  // Backpressure on the response: stop and restart reading from the upstream.
  void pause_reading();
  void resume_reading();

  // After on_response_end: the upstream allows another request and the exchange left nothing
  // behind (the whole request was sent, nothing followed the response).
  bool reusable() const { return reusable_; }
  // Requests begun on this connection so far.
  std::uint64_t requests() const { return requests_; }
  // True once any byte of the current response arrived.
  bool response_started() const { return parser_.started(); }
  // The request's bytes have been fully handed to the connection (the caller says so).
  // A complete request sends a head still held.
  void set_request_complete(bool complete);

  // Idle in the pool: `on_lost` runs once if the upstream closes it or sends anything, or when
  // `idle_ms` pass. The owner then closes it.
  void watch_idle(std::uint64_t idle_ms, std::function<void()> on_lost);
  // Taken from the pool: stops watching.
  void stop_idle_watch();

  void close();

private:
  struct WriteRequest {
    uv_write_t req{};
    std::string data;
    UpstreamConnection* self = nullptr;
  };

  explicit UpstreamConnection(uv_loop_t* loop);
  ~UpstreamConnection() = default;

  // Writes `pieces` after the held head, if any: at once as far as the socket takes them, the
  // rest copied into one write request.
  void write_pieces(const std::string_view* pieces, std::size_t count);
  void start_connect(const sockaddr* address);
  void on_resolved(int status, addrinfo* result);
  void on_connect(int status);
  void defer_connect_failure(std::string cause);
  void on_read(ssize_t nread, const uv_buf_t* buf);
  void on_data(const char* data, std::size_t len);
  void on_eof();
  void fail(const std::string& cause);
  void lose_idle();
  void arm_idle_timer();
  void update_reading();
  void maybe_free();

  // ResponseEvents
  void on_response_head(UpstreamResponse& response) override;
  void on_continue() override;
  void on_response_body(std::string_view data) override;

  static void alloc_cb(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);

  // Where the connection stands. Every legal move is in move_to:
  //
  //   connecting -> idle -> busy -> done -> idle ...   (busy -> tunnel -> done)
  //        \-> resolving -> connecting                  (a name is looked up first)
  //   connecting, resolving -> done (the connect failed); idle -> done (lost while pooled);
  //   anything -> closing, which is never left.
  enum class State : std::uint8_t {
    resolving,  // the host name is being looked up (a getaddrinfo request is out)
    connecting, // the TCP connect is out
    idle,       // connected, no request (pooled, or about to get its first)
    busy,       // a request was begun and its response is being read
    tunnel,     // the upstream answered 101: raw bytes both ways
    done,       // the response ended (or the connection failed); nothing is read for anyone
    closing,    // close() was called: the handles are closing and nothing more happens
  };
  void move_to(State next);

  uv_loop_t* loop_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  std::uint64_t idle_deadline_ = 0;  // loop time when an idle connection is dropped; 0: in use
  std::uint64_t timer_deadline_ = 0; // loop time the idle timer is armed for; 0: not armed
  uv_connect_t connect_req_{};
  uv_getaddrinfo_t lookup_req_{};
  uv_shutdown_t shutdown_req_{};
  std::string host_port_;
  std::string host_;
  Listener* listener_ = nullptr;
  ResponseParser parser_;
  State state_ = State::connecting;
  std::function<void()> on_idle_lost_;
  std::size_t queued_bytes_ = 0;
  // Facts that hold independently of the state.
  bool above_high_water_ = false; // on_write_drained is owed once the queue drains
  bool reading_ = false;          // uv_read_start is in effect
  bool paused_ = false;           // the client side asked for backpressure on the response
  bool reusable_ = false;
  bool request_complete_ = true;
  bool write_failed_ = false;
  bool shutdown_sent_ = false;
  std::string deferred_error_;
  std::string held_head_; // begin()'s head under HeadTiming::with_first_body, until it is sent
  int pending_ = 0;       // handles not yet closed plus requests not yet called back
  std::uint64_t requests_ = 0;
};

} // namespace ofwatchdog::upstream
