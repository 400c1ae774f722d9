// ForkExchange with cgi_headers on (docs/cgi-headers.md): the CGI head at the start of the
// function's stdout becomes the response's status and headers, and the rest its body.
#include <fmt/format.h>

#include "modes/fork/fork_exchange.hpp"

namespace ofwatchdog::modes {

int ForkExchange::answer_status() const {
  return cgi_ && cgi_->state() == CgiHeadReader::State::done ? cgi_->status() : 200;
}

HeaderList ForkExchange::answer_headers() const {
  if (cgi_ && cgi_->state() == CgiHeadReader::State::done)
    return cgi_->response_headers(context_.config->content_type);
  return {{"Content-Type", context_.config->content_type}};
}

std::string_view ForkExchange::past_cgi_head(std::string_view data) {
  if (!cgi_ || cgi_->state() == CgiHeadReader::State::done)
    return data;
  if (cgi_->state() == CgiHeadReader::State::bad)
    return {}; // the rest of the output of a refused function is dropped
  std::string_view rest = cgi_->feed(data);
  switch (cgi_->state()) {
  case CgiHeadReader::State::reading:
    return {};
  case CgiHeadReader::State::done:
    on_cgi_head();
    return rest;
  case CgiHeadReader::State::bad:
    break;
  }
  // Nothing of the answer was sent: the client gets a 502 that says what was wrong, and the
  // function, whose output can no longer be used, is stopped.
  context_.log->info(fmt::format("Function's CGI head is not valid: {}", cgi_->problem()));
  refusal_ = Refusal{502, cgi_head_failure_text(cgi_->problem())};
  kill_and_abandon("its CGI head is not valid");
  return {};
}

bool ForkExchange::refuse_unfinished_cgi_head() {
  if (!cgi_ || cgi_->state() != CgiHeadReader::State::reading || !cgi_->started())
    return false;
  context_.log->info("Function's output ended inside its CGI head");
  refusal_ = Refusal{502, cgi_head_unfinished_text()};
  return true;
}

} // namespace ofwatchdog::modes
