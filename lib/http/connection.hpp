#pragma once
// One accepted socket: its handles, parser, timers and write queue.
//
// A Connection owns a uv_tcp_t, a uv_timer_t (the earliest of its read, write, idle and linger
// deadlines, kept by ConnectionDeadlines), a uv_idle_t (work deferred to the next loop turn, so
// that calls made by a handler never re-enter the parser or the handler) and a uv_prepare_t (the
// write queue's flush at the end of the turn). It frees itself after the close callbacks of all
// four handles have run. Its exchange sees it only as an ExchangeConnection, its server only as a
// ConnectionHost.
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

#include "http/connection_deadlines.hpp"
#include "http/exchange_connection.hpp"
#include "http/file_sender.hpp"
#include "http/input_buffer.hpp"
#include "http/request_parser.hpp"
#include "http/server_exchange.hpp"
#include "http/write_queue.hpp"

namespace ofwatchdog::http {

class ConnectionHost;

class Connection final : public ExchangeConnection {
public:
  explicit Connection(ConnectionHost& server);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Takes over an accepted socket (non-blocking) and starts reading. On failure the
  // connection closes itself (and the socket).
  void accept(int fd);

  // Graceful: close now if idle, else after the current response.
  void drain();
  // Forceful: cancel the exchange (shutdown) and close.
  void shut_down();

  // ExchangeConnection (exchange_connection.hpp)
  uv_loop_t* loop() const override;
  std::string_view date() const override;
  WriteQueue& out() override { return out_; }
  bool last_response() const override { return close_after_response_ || draining_; }
  void close_after_response() override { close_after_response_ = true; }
  void body_interest_changed() override;
  void response_ended(ResponseEnd end) override;
  void begin_tunnel() override;
  void send_file(uv_file fd, std::uint64_t offset, std::uint64_t length) override;
  void cancel_file() override;
  // The body is not taken when it is small enough to be dropped cheaply should the response end
  // first (kMaxDiscard); connection_transfers.cpp.
  std::optional<TakenBody> take_body() override;
  void taken_body_ended(int status) override;
  int splice_output_socket() override;
  void splice_failed() override;

  // Bytes read ahead beyond the parser while it is suspended.
  static constexpr std::size_t kReadAhead = 64 * 1024;
  // A body left unread by a finished response is discarded up to this size to keep the
  // connection; a longer one closes it.
  static constexpr std::uint64_t kMaxDiscard = 256 * 1024;
  // After the last response the socket is half-closed and read (and discarded) for this long, so
  // unread input does not turn the close into a reset that could destroy the response.
  static constexpr std::uint64_t kLingerMs = 500;

private:
  // Where the current request stands: the input side of one exchange. Every legal move is in
  // move_to (connection_requests.cpp).
  //
  //   waiting -> head -> body -> complete -> waiting ...
  //                        |  \-> discarding -> complete
  //                        \-> tunnel <-> complete    (head -> complete: refused by the server)
  enum class Phase : std::uint8_t {
    waiting,    // between requests; nothing of the next one has arrived
    head,       // bytes of a request head have arrived
    body,       // the head was handed out; its body is still coming
    discarding, // the response ended first: the rest of the body is read and dropped
    complete,   // the message is complete (or abandoned); waiting for the response to finish
    tunnel,     // a 101 was sent and the request has ended: raw bytes both ways
  };
  // Where the current response stands: the output side. none -> running (an exchange was handed
  // out) -> ended (complete in the write queue, or cut short) -> none once it is written; a
  // refusal the connection answers itself goes from none (or running) to ended.
  enum class Response : std::uint8_t { none, running, ended };
  // The socket's input. paused <-> reading; either -> taken (a spliced body owns the socket's
  // input) -> paused; either -> ended (the peer half-closed) -> end_delivered (a tunnel's
  // handler was told).
  enum class Input : std::uint8_t { paused, reading, taken, ended, end_delivered };
  // pump() is not re-entered: a call while it runs asks it to run once more.
  enum class Pump : std::uint8_t { idle, running, rerun };

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
  void move_to(Input next);
  bool peer_eof() const { return input_ == Input::ended || input_ == Input::end_delivered; }
  void update_reading();
  void update_timer();
  void begin_graceful_close();
  void close_now();
  void cancel_exchange(CancelReason reason);
  void start_pending_file();
  void on_file_done(int status);
  void file_sender_closed();

  // connection_requests.cpp: parsing, dispatch, the order of requests and responses
  void move_to(Phase next);
  void move_to(Response next);
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

  ConnectionHost& server_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{}; // armed for the earliest of deadlines_
  uv_idle_t idle_{};
  uv_prepare_t flush_{}; // writes out the queue once per loop turn
  uv_shutdown_t shutdown_req_{};
  int open_handles_ = 0;

  RequestParser parser_;
  WriteQueue out_;
  InputBuffer in_;
  ConnectionDeadlines deadlines_;
  std::shared_ptr<ServerExchangeImpl> exchange_;
  std::string remote_;
  struct PendingFile {
    uv_file fd;
    std::uint64_t offset;
    std::uint64_t length;
  };
  std::optional<PendingFile> pending_file_; // waiting for the write queue to empty
  std::unique_ptr<FileSender> files_;

  Phase phase_ = Phase::waiting;
  Response response_ = Response::none;
  Input input_ = Input::paused;
  Pump pump_ = Pump::idle;
  // Serving requests; then, after the last response, lingering (half-closed, reading and
  // dropping what the client still sends, kLingerMs at most) unless it can close at once; then
  // closing (the handles are closing and nothing more happens). Never back.
  enum class Life : std::uint8_t { serving, lingering, closing };
  Life life_ = Life::serving;
  std::uint64_t discarded_ = 0; // body bytes dropped for want of a reader
  // Facts that hold independently of the states above.
  bool first_request_ = true;         // the read deadline runs from the accept
  bool close_after_response_ = false; // keep-alive ends with this response
  bool draining_ = false;             // the server is draining: no request after this one
  bool write_failed_ = false;         // the socket is broken; closes on the next turn
};

} // namespace ofwatchdog::http
