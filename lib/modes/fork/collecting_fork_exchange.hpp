#pragma once
// The serializing mode's request (fork_exchange.hpp has the flow): the whole body is held
// first and the function starts at its end; its output is collected and sent with a
// Content-Length once it has exited. Held body and output live in mapped blocks, and beyond
// 80 KiB in an in-memory file, so they go back to the system as they are consumed
// (byte_queue.hpp); a large output leaves from that file with sendfile.

#include <cstdint>
#include <optional>

#include "modes/byte_queue.hpp"
#include "modes/fork/fork_exchange.hpp"
#include "modes/static/file_body.hpp"

namespace ofwatchdog::modes {

class CollectingForkExchange final : public ForkExchange {
public:
  CollectingForkExchange(const ModeContext& context, std::shared_ptr<Exchange> exchange,
                         std::shared_ptr<JobRegistry> registry)
      : ForkExchange(context, std::move(exchange), std::move(registry)) {}

  // ExchangeHandler
  void on_body(std::string_view data) override;
  void on_body_end() override;
  void on_writable() override;
  void on_cancel(CancelReason reason) override;

private:
  void begin() override;
  void on_stdin_room() override { feed_stdin(); }
  void on_stdin_gone() override { body_.clear(); }
  void take_output(std::string_view data) override { output_.append(data); }
  void answer(const std::string& error) override;
  bool answer_in_flight() const override { return output_body_.has_value(); }
  std::uint64_t bytes_in_flight() const override { return output_file_bytes_; }

  // Moves held body pieces into the stdin pipe while it has room.
  void feed_stdin();
  // Sends the output's in-memory file as the rest of the body, if it has one worth it;
  // returns false when the caller must copy the rest itself.
  bool send_output_file();
  void on_output_file_sent(int status);

  ByteQueue body_;
  std::uint64_t body_bytes_ = 0; // body bytes received so far
  ByteQueue output_;
  // The output's file on its way to the client, and its length (for the log).
  std::optional<static_files::FileBody> output_body_;
  std::uint64_t output_file_bytes_ = 0;
};

} // namespace ofwatchdog::modes
