// Fuzz target: the http mode's upstream response parser (upstream/response_parser.hpp) on a
// stream of responses, as one keep-alive upstream connection would deliver them.
//
// Input layout: byte 0 says which requests were HEAD (bit i for response i) and, in its top
// bit, whether the head limit is tiny (so the limit is reached too); byte 1 seeds the sizes of
// the pieces the rest is fed in, because a parser must give the same answer however the bytes
// are split across reads. The rest is what the upstream sent.
//
// Invariants (what response_parser.hpp promises its caller):
// - `consumed` never exceeds the piece, and `need_more` consumed all of it;
// - one head per `begin`, body bytes only after it, none for HEAD, 1xx-free heads;
// - body bytes never exceed a declared Content-Length, and a complete response has all of them;
// - after `error` or `complete`, feeding again changes nothing until the next `begin`;
// - `finish` completes only a response that is delimited by the close.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "upstream/response_parser.hpp"

namespace {

using ofwatchdog::upstream::ResponseEvents;
using ofwatchdog::upstream::ResponseParser;
using ofwatchdog::upstream::UpstreamResponse;

// Records what one response delivered, and checks the order of the events as they come.
class RecordingEvents : public ResponseEvents {
public:
  void reset(bool head_request) {
    head_request_ = head_request;
    heads_ = 0;
    body_bytes_ = 0;
    response_ = UpstreamResponse{};
  }
  void on_response_head(UpstreamResponse& response) override {
    // Interim responses (100, 103) are skipped; 101 is final.
    if (++heads_ > 1 ||
        (response.status >= 100 && response.status < 200 && response.status != 101)) {
      std::abort();
    }
    response_ = response;
  }
  void on_response_body(std::string_view data) override {
    body_bytes_ += data.size();
    if (heads_ != 1 || head_request_ ||
        (response_.content_length && body_bytes_ > *response_.content_length)) {
      std::abort();
    }
  }

  int heads() const { return heads_; }
  std::uint64_t body_bytes() const { return body_bytes_; }
  const UpstreamResponse& response() const { return response_; }

private:
  bool head_request_ = false;
  int heads_ = 0;
  std::uint64_t body_bytes_ = 0;
  UpstreamResponse response_;
};

// Piece sizes from a small xorshift generator: deterministic for one input, varied across them.
class PieceSizes {
public:
  explicit PieceSizes(std::uint8_t seed) : state_(seed * 2654435761u + 1) {}
  std::size_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    // Mostly small pieces (split inside tokens), sometimes large ones (several at once).
    return (state_ & 3) == 0 ? 1 + state_ % 4096 : 1 + state_ % 16;
  }

private:
  std::uint32_t state_;
};

bool has_no_body_by_status(int status) {
  return status == 204 || status == 304 || (status >= 100 && status < 200);
}

// The state after a response ended is sticky until the next `begin`.
void check_sticky(ResponseParser& parser, ResponseParser::Status status) {
  const char probe[] = "HTTP/1.1 200 OK\r\n\r\n";
  ResponseParser::Result again = parser.feed(probe, sizeof(probe) - 1);
  if (again.status != status || again.consumed != 0) {
    std::abort();
  }
}

void check_complete(const RecordingEvents& events, bool head_request) {
  const UpstreamResponse& response = events.response();
  if (events.heads() != 1) {
    std::abort();
  }
  if (!head_request && !has_no_body_by_status(response.status) && response.content_length &&
      !response.switching_protocols && events.body_bytes() != *response.content_length) {
    std::abort(); // complete, yet short of the declared length
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) {
    return 0;
  }
  const std::uint8_t head_bits = data[0];
  PieceSizes sizes(data[1]);
  const char* bytes = reinterpret_cast<const char*>(data + 2);
  std::size_t remaining = size - 2;

  RecordingEvents events;
  ResponseParser parser(events, (head_bits & 0x80) != 0 ? 64 : 16 * 1024);
  for (int index = 0; index < 7; ++index) {
    bool head_request = ((head_bits >> index) & 1) != 0;
    parser.begin(head_request ? "HEAD" : "GET");
    events.reset(head_request);
    ResponseParser::Status status = ResponseParser::Status::need_more;
    while (remaining > 0 && status == ResponseParser::Status::need_more) {
      std::size_t piece = sizes.next();
      piece = piece < remaining ? piece : remaining;
      ResponseParser::Result result = parser.feed(bytes, piece);
      status = result.status;
      if (result.consumed > piece ||
          (status == ResponseParser::Status::need_more && result.consumed != piece)) {
        std::abort();
      }
      bytes += result.consumed;
      remaining -= result.consumed;
    }
    if (parser.head_delivered() != (events.heads() == 1)) {
      std::abort();
    }
    if (status == ResponseParser::Status::error) {
      if (parser.error_text().empty()) {
        std::abort();
      }
      check_sticky(parser, status);
      return 0;
    }
    if (status == ResponseParser::Status::need_more) {
      // The upstream closed here. Only a body that runs to the close may end cleanly now.
      bool completed = parser.finish();
      const UpstreamResponse& response = events.response();
      if (completed && (events.heads() != 1 || response.content_length || response.chunked)) {
        std::abort();
      }
      if (completed != parser.finish()) {
        std::abort(); // finish is idempotent
      }
      return 0;
    }
    check_complete(events, head_request);
    check_sticky(parser, status);
    if (!parser.finish()) {
      std::abort(); // a complete response stays complete at the close
    }
    if (events.response().switching_protocols || !parser.keep_alive()) {
      return 0; // what follows is a tunnel, or nothing that may be parsed as HTTP
    }
  }
  return 0;
}
