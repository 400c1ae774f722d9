#pragma once
// The streaming mode's request (fork_exchange.hpp has the flow): the body goes to stdin as it
// arrives and stdout to the client as it is read. Backpressure both ways: the body is paused
// while the stdin pipe holds too much, and the function's stdout is paused while the client is
// behind. A large Content-Length body, and (behind a switch) a large output, are spliced by the
// exchange instead (streaming_fork_exchange_splice.cpp).

#include "modes/fork/fork_exchange.hpp"

namespace ofwatchdog::modes {

class StreamingForkExchange final : public ForkExchange {
public:
  StreamingForkExchange(const ModeContext& context, std::shared_ptr<Exchange> exchange,
                        std::shared_ptr<JobRegistry> registry)
      : ForkExchange(context, std::move(exchange), std::move(registry)) {}

  // ExchangeHandler
  void on_body(std::string_view data) override;
  void on_body_end() override;
  void on_writable() override;

private:
  void begin() override;
  void on_stdin_room() override;
  void on_stdin_gone() override;
  void take_output(std::string_view data) override;
  void on_cgi_head() override;
  void answer(const std::string& error) override;

  // streaming_fork_exchange_splice.cpp. A running splice ends with the exchange (finish,
  // abort or cancellation) at the latest.
  void try_splice_body();
  void maybe_splice_output();
  void on_body_splice_done();
  void on_output_splice_done(int status);

  bool body_paused_ = false;          // the body waits for room in the stdin pipe
  bool stdout_paused_ = false;        // stdout waits for the client
  bool output_splice_active_ = false; // the exchange is splicing stdout into the socket
};

} // namespace ofwatchdog::modes
