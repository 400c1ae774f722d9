#pragma once
// One accepted socket: its handles, parser, timers and write queue.
//
// A Connection owns a uv_tcp_t, a uv_timer_t (the earliest of its read, write, idle and linger
// deadlines), a uv_idle_t (work deferred to the next loop turn, so that calls made by a
// handler never re-enter the parser or the handler) and a uv_prepare_t (the write queue's flush
// at the end of the turn). It frees itself after the close callbacks of all four handles have
// run.
//
// Requests are served one at a time: the parser stops after each head and each message and is
// only resumed when the current exchange wants body bytes, or once its response has been fully
// written. While parsing is suspended the socket is read ahead at most kReadAhead bytes (so a
// peer close is still noticed) and then reading stops.
//
// After a 101 to an upgrade request the connection is a tunnel: the parser is never fed again,
// the bytes after the request are handed to the exchange raw (at most kReadAhead at a time, only
// while it wants them), a peer half-close ends that body, no timeout applies, and the connection
// closes once the exchange ends.
//
// A file body (Exchange::send_file) waits until the write queue is empty, then goes to the
// socket through the connection's FileSender, created on the first file body and counted as one
// more handle to close. Only one writer touches the socket at a time: the write queue is idle
// while a file transfer runs, and the exchange may not send more until the transfer is over.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <uv.h>

#include "http/file_sender.hpp"
#include "http/request_parser.hpp"
#include "http/server_exchange.hpp"
#include "http/write_queue.hpp"

namespace ofwatchdog::http {

class ServerImpl;

class Connection {
public:
  explicit Connection(ServerImpl& server);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Takes over an accepted socket (non-blocking) and starts reading. On failure the
  // connection closes itself (and the socket).
  void accept(int fd);

  // Graceful: close now if idle, else after the current response.
  void drain();
  // Forceful: cancel the exchange (shutdown) and close.
  void shut_down();

  // --- called by the exchange ---------------------------------------------------------------
  uv_loop_t* loop() const;
  std::string_view date() const;
  WriteQueue& out() { return out_; }
  bool closing() const { return life_ == Life::closing; }
  // True when this response will be the last on the connection (so it says Connection: close).
  bool last_response() const { return close_after_response_ || draining_; }
  void close_after_response() { close_after_response_ = true; }
  // The exchange wants (more) body bytes, or stopped wanting them; parsing follows at once.
  void body_interest_changed();
  // The exchange's response is complete in the write queue (finish) or was cut short (abort,
  // or a length that was not reached: `reusable` false).
  void response_ended(bool reusable);
  // abort() before any head, or of a tunnel: the connection is closed at once.
  void abort_now();
  // A 101 head for an upgrade request was queued: the rest of the connection is a tunnel.
  void begin_tunnel();
  // Sends a file range as body bytes once everything queued before is written; the outcome goes
  // to the exchange (file_progress / file_finished). `fd` must stay open until the transfer has
  // started or been cancelled (the sender works on its own duplicate from then on).
  void send_file(uv_file fd, std::uint64_t offset, std::uint64_t length);
  // Drops the pending or running transfer; nothing more is reported for it.
  void cancel_file();
  // Spliced bodies (connection_splice.cpp). `take_body` hands over the rest of a Content-Length
  // body: the connection stops reading and parsing the socket, gives the bytes it had already
  // read, and the taker moves exactly `remaining` more from the socket, so a pipelined next
  // request stays in it. Nothing when it cannot be taken: not a Content-Length body, one small
  // enough to be dropped cheaply should the response end first (kMaxDiscard), a tunnel, or a
  // closing connection. `taken_body_ended(0)` ends the message as if the parser had seen all of
  // it; an error is handled as a failed read (the exchange is cancelled on the next turn).
  struct TakenBody {
    int socket = -1;             // the connection's descriptor; duplicate it, never close it
    std::string_view buffered;   // body bytes already read; valid until the next loop turn
    std::uint64_t remaining = 0; // body bytes still in the socket, after `buffered`
  };
  std::optional<TakenBody> take_body();
  void taken_body_ended(int status);
  // The socket, once the write queue is idle (it is flushed first); -1 while bytes are queued.
  int splice_output_socket();
  // A spliced write failed: handled like a failed write, on the next turn.
  void splice_failed();

  // Bytes read ahead beyond the parser while it is suspended.
  static constexpr std::size_t kReadAhead = 64 * 1024;
  // A body left unread by a finished response is discarded up to this size to keep the
  // connection; a longer one closes it.
  static constexpr std::uint64_t kMaxDiscard = 256 * 1024;
  // After the last response the socket is half-closed and read (and discarded) for this long, so
  // unread input does not turn the close into a reset that could destroy the response.
  static constexpr std::uint64_t kLingerMs = 500;

private:
  enum class Phase {
    waiting,  // between requests; nothing of the next one has arrived
    head,     // bytes of a request head have arrived
    body,     // the head was handed out; its body is still coming
    complete, // the message is complete (or abandoned); waiting for the response to finish
    tunnel,   // a 101 was sent and the request has ended: raw bytes both ways
  };

  // connection.cpp: handles, reading, timers, closing
  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_timer(uv_timer_t* timer);
  static void on_idle(uv_idle_t* idle);
  static void on_flush(uv_prepare_t* prepare);
  void request_flush();
  static void on_shutdown(uv_shutdown_t* req, int status);
  static void on_handle_closed(uv_handle_t* handle);
  void handle_data(const char* data, std::size_t len);
  void handle_eof();
  void handle_written(int status);
  void handle_timer();
  void schedule();
  void update_reading();
  void update_timer();
  void begin_graceful_close();
  void close_now();
  void cancel_exchange(CancelReason reason);
  std::uint64_t deadline_after(std::int64_t timeout_ns) const;
  std::size_t unparsed() const { return inbuf_.size() - inpos_; }
  void start_pending_file();
  void on_file_done(int status);
  void file_sender_closed();

  // connection_requests.cpp: parsing, dispatch, the order of requests and responses
  void pump();
  bool step();
  bool feed_parser();
  void on_head();
  void on_message_end();
  void on_parse_error();
  void on_body_parse_error(std::string_view status);
  // Writes a protocol-error answer (request_checks.hpp) and closes once it is out.
  void answer_and_close(std::string_view status);
  // The request is over and answered: nothing more of it is read, and the connection closes
  // once the queued response is out.
  void close_once_answered();
  void on_body_bytes(std::string_view data);
  bool step_tunnel();
  void start_exchange(Request request);
  void finish_exchange();

  ServerImpl& server_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_idle_t idle_{};
  uv_prepare_t flush_{}; // writes out the queue once per loop turn
  uv_shutdown_t shutdown_req_{};
  int open_handles_ = 0;

  RequestParser parser_;
  WriteQueue out_;
  std::shared_ptr<ServerExchangeImpl> exchange_;
  std::string remote_;
  struct PendingFile {
    uv_file fd;
    std::uint64_t offset;
    std::uint64_t length;
  };
  std::optional<PendingFile> pending_file_; // waiting for the write queue to empty
  std::unique_ptr<FileSender> files_;
  std::string inbuf_;
  std::size_t inpos_ = 0;

  Phase phase_ = Phase::waiting;
  bool first_request_ = true;
  bool response_done_ = false;
  bool discard_body_ = false;
  std::uint64_t discarded_ = 0;
  bool close_after_response_ = false;
  bool draining_ = false;
  bool reading_ = false;
  bool peer_eof_ = false;
  bool tunnel_end_delivered_ = false;
  bool write_failed_ = false;
  // Serving requests; then, after the last response, lingering (half-closed, reading and
  // dropping what the client still sends, kLingerMs at most) unless it can close at once; then
  // closing (the handles are closing and nothing more happens). Never back.
  enum class Life : std::uint8_t { serving, lingering, closing };
  Life life_ = Life::serving;
  bool processing_ = false;
  bool reprocess_ = false;
  bool body_taken_ = false; // a spliced request body owns the socket's input

  // Absolute uv_now() times in milliseconds; 0 when unset.
  std::uint64_t read_deadline_ = 0;
  std::uint64_t write_deadline_ = 0;
  std::uint64_t idle_deadline_ = 0;
  std::uint64_t linger_deadline_ = 0;
  std::uint64_t timer_deadline_ = 0; // when the armed timer fires; 0 when it is not armed
};

} // namespace ofwatchdog::http
