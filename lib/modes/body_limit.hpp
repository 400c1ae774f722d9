#pragma once
// `max_body_size` (docs/config.md): whether a request body is over the limit, and the 413 that
// refuses it. Shared by the modes that apply the limit, so the answer is the same everywhere.

#include <cstdint>
#include <string>

#include "ofwatchdog/config.hpp"
#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog::modes {

// True when the limit is set (not 0) and `bytes` is over it; a body of exactly the limit passes.
bool over_body_limit(const Config& config, std::uint64_t bytes);

// The body of the 413, also the log line: `Request body too large: the limit is <n> bytes`.
std::string body_too_large_text(std::uint64_t limit);
inline std::string body_too_large_text(const Config& config) {
  return body_too_large_text(config.max_body_size);
}

// Answers `exchange` with a refusal made by the watchdog itself, such as the 413 (text/plain,
// `X-OpenFaaS-Internal: of-watchdog`, `text` as the body), and detaches its handler first: what
// is left of the body is the server's to discard, or to close the connection on.
// `extra` headers follow those two (mode=wasm's 429 adds `Retry-After`).
void send_refusal(Exchange& exchange, int status, const std::string& text, HeaderList extra = {});

} // namespace ofwatchdog::modes
