#pragma once
// What a ServerExchangeImpl needs from the connection that carries it: where to write, what to
// say about keep-alive, how its response ended, and the connection's socket lent out for the
// kernel-moved bodies. Connection (connection.hpp) is the only implementation; the exchange sees
// nothing else of it, so the connection's states and handles stay its own.

#include <cstdint>
#include <optional>
#include <string_view>

#include <uv.h>

#include "http/write_queue.hpp"

namespace ofwatchdog::http {

class ExchangeConnection {
public:
  virtual uv_loop_t* loop() const = 0;
  // The Date header's value for this second.
  virtual std::string_view date() const = 0;
  // The response's bytes go here, in order; the connection flushes them once per loop turn.
  virtual WriteQueue& out() = 0;

  // True when this response will be the last on the connection (so it says Connection: close).
  virtual bool last_response() const = 0;
  virtual void close_after_response() = 0;
  // The exchange wants (more) body bytes, or stopped wanting them; parsing follows at once.
  virtual void body_interest_changed() = 0;

  enum class ResponseEnd : std::uint8_t {
    complete,  // finish: the response is complete in the write queue
    cut_short, // abort after the head, or a length that was not reached: close once written
    reset,     // abort before any head, or of a tunnel: close at once
  };
  virtual void response_ended(ResponseEnd end) = 0;
  // A 101 head for an upgrade request was queued: the rest of the connection is a tunnel.
  virtual void begin_tunnel() = 0;

  // Sends a file range as body bytes once everything queued before is written; the outcome goes
  // to the exchange (file_progress / file_finished). `fd` must stay open until the transfer has
  // started or been cancelled (the sender works on its own duplicate from then on).
  virtual void send_file(uv_file fd, std::uint64_t offset, std::uint64_t length) = 0;
  // Drops the pending or running transfer; nothing more is reported for it.
  virtual void cancel_file() = 0;

  // Spliced bodies. `take_body` hands over the rest of a Content-Length body: the connection
  // stops reading and parsing the socket, gives the bytes it had already read, and the taker
  // moves exactly `remaining` more from the socket, so a pipelined next request stays in it.
  // Nothing when it cannot be taken: not a Content-Length body, one small enough to be dropped
  // cheaply should the response end first, a tunnel, or a closing connection.
  // `taken_body_ended(0)` ends the message as if the parser had seen all of it; an error is
  // handled as a failed read (the exchange is cancelled on the next turn).
  struct TakenBody {
    int socket = -1;             // the connection's descriptor; duplicate it, never close it
    std::string_view buffered;   // body bytes already read; valid until the next loop turn
    std::uint64_t remaining = 0; // body bytes still in the socket, after `buffered`
  };
  virtual std::optional<TakenBody> take_body() = 0;
  virtual void taken_body_ended(int status) = 0;
  // The socket, once the write queue is idle (it is flushed first); -1 while bytes are queued.
  virtual int splice_output_socket() = 0;
  // A spliced write failed: handled like a failed write, on the next turn.
  virtual void splice_failed() = 0;

protected:
  ~ExchangeConnection() = default;
};

} // namespace ofwatchdog::http
