// start_in_process: see in_process_start.hpp.
#include "modes/in_process_start.hpp"

#include "modes/body_limit.hpp"
#include "modes/exec_timeout.hpp"

namespace ofwatchdog::modes {

std::optional<InProcessStart> start_in_process(std::shared_ptr<Exchange> exchange,
                                               const ModeContext& context) {
  const Config& config = *context.config;
  Duration timeout =
      effective_exec_timeout(config.exec_timeout, exchange->request().header("X-Timeout"));
  auto wrapped = std::make_shared<DeadlineExchange>(std::move(exchange), timeout, *context.log,
                                                    config.log_callid);
  const Request& request = wrapped->request();
  if (request.content_length && over_body_limit(config, *request.content_length)) {
    std::string text = body_too_large_text(config);
    context.log->info(text);
    send_refusal(*wrapped, 413, text);
    return std::nullopt;
  }
  return InProcessStart{std::move(wrapped), timeout};
}

} // namespace ofwatchdog::modes
