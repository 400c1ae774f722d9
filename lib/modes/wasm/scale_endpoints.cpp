#include "modes/wasm/scale_endpoints.hpp"

#include <fmt/format.h>

#include "ofwatchdog/handler_mode.hpp"

namespace ofwatchdog::modes {

namespace {

void answer(Exchange& exchange, int status, std::string_view content_type, std::string_view body,
            HeaderList extra = {}) {
  HeaderList headers = std::move(extra);
  if (!content_type.empty())
    headers.push_back({"Content-Type", std::string(content_type)});
  send_whole_response(exchange, status, std::move(headers), body);
}

constexpr std::string_view kText = "text/plain; charset=utf-8";

// The updater's body, collected up to kMaxScaleBody, then acted on. serve_with owns it and
// destroys it once the exchange has ended, either way.
class ScaleUpdate final : public ExchangeHandler {
public:
  ScaleUpdate(std::shared_ptr<Exchange> exchange, ScaleTarget target, Logger& log)
      : exchange_(std::move(exchange)), target_(std::move(target)), log_(log) {
    exchange_->set_handler(this);
  }

  void on_body(std::string_view data) override {
    if (body_.size() + data.size() > kMaxScaleBody) {
      exchange_->set_handler(nullptr);
      answer(*exchange_, 413, kText, "Request body too large");
      return;
    }
    body_.append(data);
  }

  void on_body_end() override {
    exchange_->set_handler(nullptr);
    ScaleRequest request = read_scale_request(body_);
    switch (request.verdict) {
    case ScaleRequest::Verdict::malformed:
      log_.info(
          fmt::format("{} (scale-updater body: {})", kScaleMalformedText, body_.substr(0, 200)));
      answer(*exchange_, 400, kText, kScaleMalformedText);
      break;
    case ScaleRequest::Verdict::too_many:
      log_.info("scale function error: the replicas cannot be greater than 65535");
      answer(*exchange_, 500, kText, kScaleFailedText);
      break;
    case ScaleRequest::Verdict::ok: {
      unsigned before = target_.status().replicas;
      if (std::optional<std::string> refused = target_.resize(request.replicas)) {
        log_.info(fmt::format("scale function error: {}", *refused));
        answer(*exchange_, 500, kText, kScaleFailedText);
        break;
      }
      log_.info(fmt::format("wasm instances scaled from {} to {}", before, request.replicas));
      answer(*exchange_, 202, "", "");
      break;
    }
    }
  }

  void on_cancel(CancelReason) override {}

private:
  std::shared_ptr<Exchange> exchange_;
  ScaleTarget target_;
  Logger& log_;
  std::string body_;
};

} // namespace

bool is_scale_path(std::string_view path) {
  return path == "/scale-reader" || path == "/scale-updater";
}

void serve_scale_endpoint(const std::shared_ptr<Exchange>& exchange, ScaleTarget target,
                          Logger& log) {
  const Request& request = exchange->request();
  if (request.path == "/scale-reader") {
    if (request.method != "GET" && request.method != "HEAD") {
      answer(*exchange, 405, kText, "Method Not Allowed", {{"Allow", "GET, HEAD"}});
      return;
    }
    std::string body = scale_reader_json(target.status());
    exchange->send_head({200, {{"Content-Type", "application/json"}}, body.size()});
    if (request.method == "GET")
      exchange->send_body(body);
    exchange->finish();
    return;
  }
  if (request.method != "POST") {
    answer(*exchange, 405, kText, "Method Not Allowed", {{"Allow", "POST"}});
    return;
  }
  serve_with<ScaleUpdate>(exchange, std::move(target), log);
}

} // namespace ofwatchdog::modes
