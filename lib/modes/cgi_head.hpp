#pragma once
// The CGI response head a function may print before its body when `cgi_headers` is on
// (docs/cgi-headers.md): header lines `Name: value`, ended by LF or CRLF, then an empty line.
// `Status: <code> [reason]` sets the status, `Location:` without a Status makes it 302, and
// every other field is passed on in order, repeats kept. The same reader serves the streaming
// and serializing modes (fed from the stdout pipe on the loop) and mode=wasm (fed from the
// guest's writes on its worker thread).
//
// Bounded: the head may take kMaxHeadBytes at most, so holding it back from the client costs
// at most that much memory; the body after it is handed back untouched, to stream as usual.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog::modes {

class CgiHeadReader {
public:
  static constexpr std::size_t kMaxHeadBytes = 64 * 1024;

  enum class State {
    reading, // the empty line has not come yet
    done,    // the head is whole: head() holds it
    bad,     // the head breaks a rule: problem() says which; feed nothing more
  };

  // Takes the next bytes of the function's output. Returns the bytes of `data` that follow the
  // head once it ends within them (the start of the body, possibly empty), and nothing while
  // the head goes on or when it is bad. After `done`, the caller sends the rest itself.
  std::string_view feed(std::string_view data);

  State state() const { return state_; }
  // Whether any output came at all: a function that printed nothing gets the mode's usual
  // empty answer, one that stopped inside its head a 502.
  bool started() const { return head_bytes_ > 0; }
  // What is wrong, for the 502's text and the log, e.g. "line 2 is not a header field".
  const std::string& problem() const { return problem_; }

  // The status and headers the head asked for (valid once `done`). `Content-Type` is
  // `default_content_type` when the function did not set one.
  int status() const { return status_.value_or(location_ ? 302 : 200); }
  HeaderList response_headers(std::string_view default_content_type) const;

private:
  void take_line(std::string_view line);
  void fail(std::string why);

  State state_ = State::reading;
  std::string line_; // the line being read, without its end
  std::size_t head_bytes_ = 0;
  unsigned lines_ = 0;
  std::optional<int> status_;
  bool location_ = false;
  bool content_type_ = false;
  HeaderList headers_;
  std::string problem_;
};

// The body of the 502 that a bad head gets, and the log line that goes with it.
std::string cgi_head_failure_text(std::string_view problem);
// The body of the 502 of a function whose output ended before its head did.
std::string cgi_head_unfinished_text();

} // namespace ofwatchdog::modes
