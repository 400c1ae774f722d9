#include "lifecycle/function_auth.hpp"

#include <chrono>

#include <fmt/format.h>

#include "crypto/libcrypto.hpp"
#include "log/format.hpp"
#include "ofwatchdog/forwarding_exchange.hpp"

namespace ofwatchdog::lifecycle {

namespace {

// A token naming an unknown key starts a refresh at most this often, so that a client cannot
// make the watchdog hammer the provider.
constexpr std::uint64_t kRefreshSpacingMs = 60'000;

// The request the mode sees after the gate: the client's, with `X-Auth-Seconds` (the time the
// check took, six decimals), as the Go watchdog 0.10.9 and later add it.
class AuthenticatedExchange final : public ForwardingExchange {
public:
  AuthenticatedExchange(std::shared_ptr<Exchange> inner, double seconds)
      : ForwardingExchange(std::move(inner)), request_(ForwardingExchange::request()) {
    request_.headers.push_back({"X-Auth-Seconds", fmt::format("{:.6f}", seconds)});
  }
  const Request& request() const override { return request_; }

private:
  Request request_;
};

struct RefreshWork {
  uv_work_t request{};
  std::string jwks_uri;
  auth::KeySetRead read;
  std::function<void(auth::KeySetRead)> done;
};

double seconds_since(std::uint64_t started_ns) {
  return static_cast<double>(uv_hrtime() - started_ns) / 1e9;
}

std::string audience_text(const nlohmann::json& claims) {
  auto aud = claims.find("aud");
  return aud == claims.end() ? std::string("(none)") : aud->dump();
}

} // namespace

FunctionAuth::FunctionAuth(const Config::FunctionAuthentication& settings, Logger& log,
                           metrics::FunctionMetrics& metrics, uv_loop_t* loop)
    : settings_(settings), log_(log), metrics_(metrics), loop_(loop) {
  policy_.function = settings_.function_namespace + ":" + settings_.function_name;
  metrics_.enable_auth_denials();
}

std::string FunctionAuth::start() {
  // Token signatures are checked with libcrypto, which dynamic builds load now: a watchdog that
  // cannot check them must not start, and says so before it asks the provider anything.
  if (std::string error; crypto::libcrypto(&error) == nullptr)
    return fmt::format("jwt_auth needs OpenSSL's libcrypto to check token signatures: {}", error);
  std::variant<auth::Provider, std::string> found = auth::discover_provider(settings_.provider_url);
  if (auto* error = std::get_if<std::string>(&found))
    return *error;
  provider_ = std::get<auth::Provider>(found);
  policy_.issuer = provider_.issuer;
  if (settings_.debug)
    log_.info(fmt::format("[JWT Auth] issuer: {} jwks_uri: {} function: {}", provider_.issuer,
                          provider_.jwks_uri, policy_.function));
  auth::KeySetRead read = auth::fetch_key_set(provider_.jwks_uri);
  if (!read.set)
    return read.error;
  log_key_set(read);
  keys_ = std::move(read.set);
  return {};
}

void FunctionAuth::log_key_set(const auth::KeySetRead& read) {
  for (const std::string& skipped : read.skipped)
    log_.info(fmt::format("JWT Auth: key set entry left out: {}", skipped));
  if (settings_.debug)
    log_.info(fmt::format("[JWT Auth] keys: {}", read.set->kid_list()));
}

void FunctionAuth::admit(std::shared_ptr<Exchange> exchange, Pass pass) {
  std::uint64_t started_ns = uv_hrtime();
  const std::string* header = exchange->request().header("Authorization");
  std::optional<std::string_view> bearer =
      header != nullptr ? auth::bearer_token(*header) : std::nullopt;
  if (!bearer) {
    deny(*exchange, auth::Denial::missing, started_ns);
    return;
  }
  std::variant<auth::ParsedToken, auth::Denial> parsed = auth::parse_token(*bearer);
  if (auto* denial = std::get_if<auth::Denial>(&parsed)) {
    deny(*exchange, *denial, started_ns);
    return;
  }
  auth::ParsedToken& token = std::get<auth::ParsedToken>(parsed);
  if (settings_.debug) {
    auto iss = token.claims.find("iss");
    log_.info(fmt::format("[JWT Auth] token kid: {} issuer: {} audience: {}", go_quote(token.kid),
                          iss == token.claims.end() ? std::string("(none)") : iss->dump(),
                          audience_text(token.claims)));
  }
  if (!keys_->has_kid(token.kid) && (refresh_ == Refresh::fetching || may_refresh())) {
    waiting_.push_back(Waiting{std::move(exchange), std::move(token), std::move(pass), started_ns});
    if (refresh_ == Refresh::idle)
      start_refresh();
    return;
  }
  decide(std::move(exchange), token, pass, started_ns);
}

void FunctionAuth::decide(std::shared_ptr<Exchange> exchange, const auth::ParsedToken& token,
                          Pass& pass, std::uint64_t started_ns) {
  std::optional<auth::Denial> denial = auth::verify_token_signature(token, *keys_);
  if (!denial) {
    double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    denial = auth::check_claims(token.claims, policy_, now);
  }
  if (denial) {
    deny(*exchange, *denial, started_ns);
    return;
  }
  pass(std::make_shared<AuthenticatedExchange>(std::move(exchange), seconds_since(started_ns)));
}

void FunctionAuth::deny(Exchange& exchange, auth::Denial denial, std::uint64_t started_ns) {
  metrics_.auth_denied(auth::denial_label(denial));
  if (settings_.debug)
    log_.info(fmt::format("[JWT Auth] denied: {}", auth::denial_text(denial)));
  int status = auth::denial_status(denial);
  std::string body;
  HeaderList headers{{"Content-Type", "text/plain; charset=utf-8"},
                     {"X-Content-Type-Options", "nosniff"},
                     {"X-OpenFaaS-Internal", "faas-middleware"}};
  if (status == 401) {
    headers.push_back({"WWW-Authenticate", "Bearer realm=IAM function invoke"});
    body = denial == auth::Denial::missing
               ? "Bearer must be present in Authorization header\n"
               : fmt::format("failed to verify JWT token: {}\n", auth::denial_text(denial));
  } else {
    body = "insufficient permissions\n";
  }
  // The Go watchdog's line, which log searches for denials rely on: the path without its
  // query, and the time taken rounded to the millisecond.
  auto elapsed_ms = (uv_hrtime() - started_ns + 500'000) / 1'000'000;
  log_.info(fmt::format("{} {} - {} ACCESS DENIED - ({})", exchange.request().method,
                        exchange.request().path, status,
                        go_duration(std::chrono::milliseconds(elapsed_ms))));
  send_whole_response(exchange, status, std::move(headers), body);
}

bool FunctionAuth::may_refresh() const {
  return !last_refresh_ms_ || uv_now(loop_) - *last_refresh_ms_ >= kRefreshSpacingMs;
}

void FunctionAuth::start_refresh() {
  refresh_ = Refresh::fetching;
  last_refresh_ms_ = uv_now(loop_);
  auto* work = new RefreshWork;
  work->request.data = work;
  work->jwks_uri = provider_.jwks_uri;
  work->done = [this](auth::KeySetRead read) { refresh_done(std::move(read)); };
  int err = uv_queue_work(
      loop_, &work->request,
      [](uv_work_t* request) {
        auto* w = static_cast<RefreshWork*>(request->data);
        w->read = auth::fetch_key_set(w->jwks_uri);
      },
      [](uv_work_t* request, int) {
        std::unique_ptr<RefreshWork> w(static_cast<RefreshWork*>(request->data));
        w->done(std::move(w->read));
      });
  if (err != 0) {
    std::unique_ptr<RefreshWork> w(work);
    auth::KeySetRead failed;
    failed.error = uv_strerror(err);
    refresh_done(std::move(failed));
  }
}

void FunctionAuth::refresh_done(auth::KeySetRead read) {
  refresh_ = Refresh::idle;
  if (read.set) {
    log_key_set(read);
    keys_ = std::move(read.set);
  } else {
    // The old set stays: a provider that is briefly away must not lock every caller out.
    log_.info(fmt::format("JWT Auth: the key set could not be refreshed: {}", read.error));
  }
  std::vector<Waiting> waiting = std::move(waiting_);
  waiting_.clear();
  for (Waiting& w : waiting) {
    // A client that left while the set was fetched has nothing more to be told.
    if (w.exchange->done())
      continue;
    decide(std::move(w.exchange), w.token, w.pass, w.started_ns);
  }
}

} // namespace ofwatchdog::lifecycle
