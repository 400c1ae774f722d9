#pragma once
// jwt_auth (docs/jwt-auth.md): the gate between the concurrency limiter and the mode. A function
// request passes with a token of the gateway's OpenID provider that grants this function, and
// reaches the mode with `X-Auth-Seconds` added; any other gets its 401 or 403 here, before the
// function runs. The probes and the metrics port never come here.
//
// The provider's key set is read at start-up. A token naming a key the set lacks makes the
// gate fetch the set again, on a worker thread, at most once a minute: requests naming unknown
// keys wait for that fetch and are decided against the new set, so a provider that rotates its
// keys is followed without a restart.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <uv.h>

#include "auth/provider_discovery.hpp"
#include "auth/token_verifier.hpp"
#include "metrics/function_metrics.hpp"
#include "ofwatchdog/config.hpp"
#include "ofwatchdog/exchange.hpp"
#include "ofwatchdog/log.hpp"

namespace ofwatchdog::lifecycle {

class FunctionAuth {
public:
  using Pass = std::function<void(std::shared_ptr<Exchange>)>;

  FunctionAuth(const Config::FunctionAuthentication& settings, Logger& log,
               metrics::FunctionMetrics& metrics, uv_loop_t* loop);

  // Discovers the provider and reads its key set. It blocks (up to the fetch timeout twice), so
  // it runs before the watchdog serves. Returns why it failed, or empty.
  std::string start();

  // Decides on a function request: answers it, or hands `pass` the request with
  // `X-Auth-Seconds`, now or after a key set refresh.
  void admit(std::shared_ptr<Exchange> exchange, Pass pass);

  FunctionAuth(const FunctionAuth&) = delete;
  FunctionAuth& operator=(const FunctionAuth&) = delete;

private:
  // Whether a refresh of the key set is under way. One at a time; see kRefreshSpacingMs.
  enum class Refresh { idle, fetching };

  struct Waiting {
    std::shared_ptr<Exchange> exchange;
    auth::ParsedToken token;
    Pass pass;
    std::uint64_t started_ns;
  };

  void decide(std::shared_ptr<Exchange> exchange, const auth::ParsedToken& token, Pass& pass,
              std::uint64_t started_ns);
  void deny(Exchange& exchange, auth::Denial denial, std::uint64_t started_ns);
  bool may_refresh() const;
  void start_refresh();
  void refresh_done(auth::KeySetRead read);
  void log_key_set(const auth::KeySetRead& read);

  Config::FunctionAuthentication settings_;
  Logger& log_;
  metrics::FunctionMetrics& metrics_;
  uv_loop_t* loop_;
  auth::Provider provider_;
  auth::ClaimsPolicy policy_;
  std::shared_ptr<const auth::KeySet> keys_;
  Refresh refresh_ = Refresh::idle;
  std::optional<std::uint64_t> last_refresh_ms_; // uv_now of the last refresh's start
  std::vector<Waiting> waiting_;                 // requests naming a key the set lacked
};

} // namespace ofwatchdog::lifecycle
