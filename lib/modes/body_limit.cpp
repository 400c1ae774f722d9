// max_body_size checks and the 413; see body_limit.hpp.
#include "modes/body_limit.hpp"

#include <fmt/format.h>

namespace ofwatchdog::modes {

bool over_body_limit(const Config& config, std::uint64_t bytes) {
  return config.max_body_size != 0 && bytes > config.max_body_size;
}

std::string body_too_large_text(std::uint64_t limit) {
  return fmt::format("Request body too large: the limit is {} bytes", limit);
}

void send_refusal(Exchange& exchange, int status, const std::string& text, HeaderList extra) {
  exchange.set_handler(nullptr);
  HeaderList headers{{"Content-Type", "text/plain; charset=utf-8"},
                     {"X-OpenFaaS-Internal", "of-watchdog"}};
  for (Header& header : extra)
    headers.push_back(std::move(header));
  send_whole_response(exchange, status, std::move(headers), text);
}

} // namespace ofwatchdog::modes
