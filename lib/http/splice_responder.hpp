#pragma once
// An internal capability of the server's exchanges (not part of the public Exchange contract),
// for the streaming mode: the request body and the response body moved between the client
// socket and a function's pipes with splice(2) (see body_splice.hpp), the bytes never passing
// through user space.
//
// A mode obtains it with `dynamic_cast<http::SpliceResponder*>(&exchange)`; an exchange that is
// not the server's own does not have it, and the mode uses on_body / send_body as usual.
//
// Request body: `take_body` hands over the rest of a Content-Length body. The connection stops
// reading the socket and stops parsing; the bytes it had already read are given to the caller,
// and the caller moves exactly `remaining` more from the socket, so a pipelined next request
// stays in the socket. `on_body` and `on_body_end` are not called for this body. The caller then
// reports the end with `body_taken_end`: 0 when every byte was taken (the connection goes on with
// the next request as usual), or an error (the client went away: the exchange is cancelled with
// `client_closed` on the next loop turn, as when a read fails). The read timeout still runs.
//
// Response body: after `begin_output_splice` returned a socket, the caller writes body bytes
// (framed as chunks when told so) straight to the socket, reports them with `output_spliced`, and
// then calls `output_splice_end`. In between it must not call send_body or finish. The write
// timeout still runs; an error ends the exchange as a failed write does.

#include <cstdint>
#include <optional>
#include <string_view>

namespace ofwatchdog::http {

class SpliceResponder {
public:
  struct TakenBody {
    int socket = -1;           // the connection's descriptor; duplicate it, never close it
    std::string_view buffered; // body bytes already read; valid until the next loop turn
    std::uint64_t remaining = 0; // body bytes still in the socket, after `buffered`
  };

  // The rest of the body, or nothing when it cannot be taken: not a Content-Length body, one
  // small enough to be dropped cheaply should the response end first (at most
  // Connection::kMaxDiscard), a tunnel, a closing connection, or no handler reading it.
  virtual std::optional<TakenBody> take_body() = 0;
  virtual void body_taken_end(int status) = 0;

  // Starts a spliced response body, once everything queued before it is written. Returns the
  // socket, or -1 when it cannot be done now: no head sent yet, a Content-Length or no body,
  // bytes still queued (try again later), or the exchange is over. `chunked` says whether the
  // body must be framed as chunks (otherwise it is delimited by the connection's close).
  virtual int begin_output_splice(bool& chunked) = 0;
  virtual void output_spliced(std::uint64_t bytes) = 0;
  // 0: the body so far is on the wire, send_body / finish may follow. Negative: the socket
  // failed; the exchange is cancelled (`client_closed`) on the next loop turn.
  virtual void output_splice_end(int status) = 0;

protected:
  ~SpliceResponder() = default;
};

} // namespace ofwatchdog::http
