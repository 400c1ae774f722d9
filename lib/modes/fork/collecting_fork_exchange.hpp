#pragma once
// The serializing mode's request (fork_exchange.hpp has the flow): the whole body is held
// first and the function starts at its end; its output is collected and sent with a
// Content-Length once it has exited. Held body and output live in mapped blocks, and beyond
// 80 KiB in an in-memory file, so they go back to the system as they are consumed
// (byte_queue.hpp); a large output leaves from that file with sendfile. Into those files and
// between them and the function's pipes the kernel moves the bytes itself, with splice(2)
// (collecting_fork_exchange_splice.cpp): a large Content-Length body never passes through user
// space, others and the output only with their first 80 KiB.

#include <cstdint>
#include <optional>

#include "modes/byte_queue.hpp"
#include "modes/fork/body_intake.hpp"
#include "modes/fork/fork_exchange.hpp"
#include "modes/static/file_body.hpp"

namespace ofwatchdog::modes {

class CollectingForkExchange final : public ForkExchange {
public:
  CollectingForkExchange(const ModeContext& context, std::shared_ptr<Exchange> exchange,
                         std::shared_ptr<JobRegistry> registry)
      : ForkExchange(context, std::move(exchange), std::move(registry)) {
    // Freeing a big body's or output's pages is left to the thread pool (file_release.hpp).
    body_.release_on(context.loop);
    output_.release_on(context.loop);
  }

  // ExchangeHandler
  void on_body(std::string_view data) override;
  void on_body_end() override;
  void on_writable() override;
  void on_cancel(CancelReason reason) override;

private:
  void begin() override;
  void on_stdin_room() override { feed_stdin(); }
  void on_stdin_gone() override { body_.clear(); }
  void take_output(std::string_view data) override;
  void answer(const std::string& error) override;
  bool answer_in_flight() const override { return output_body_.has_value(); }
  std::uint64_t bytes_in_flight() const override { return output_file_bytes_; }

  // Moves held body pieces into the stdin pipe while it has room.
  void feed_stdin();

  // collecting_fork_exchange_splice.cpp. A large body from the socket into its file.
  void take_body_in();
  // The body's file into stdin: true when the rest of the body is the kernel's to move (a
  // splice runs, or starts once the queued writes are out).
  bool splice_stdin();
  void on_stdin_splice_done(int status);
  // The rest of stdout straight into the output's file, once the output has reached it.
  void maybe_splice_output();
  void on_output_splice_done(int status);
  // Sends the output's in-memory file as the rest of the body, if it has one worth it;
  // returns false when the caller must copy the rest itself.
  bool send_output_file();
  void on_output_file_sent(int status);

  // A move the kernel makes (splice), for each direction: ready (the bytes in or for a file may
  // be spliced), running, or refused (it could not start, or it failed: copies through user space
  // from then on). ready -> running -> ready | refused; ready -> refused.
  enum class Splice : std::uint8_t { ready, running, refused };
  Splice stdin_splice_ = Splice::ready;
  Splice output_splice_ = Splice::ready;

  ByteQueue body_;
  std::uint64_t body_bytes_ = 0; // body bytes received so far
  // A large Content-Length body on its way into body_'s file, moved by the kernel (before
  // body_ in destruction, as it writes there).
  std::optional<BodyIntake> intake_;
  ByteQueue output_;
  // The output's file on its way to the client, and its length (for the log).
  std::optional<static_files::FileBody> output_body_;
  std::uint64_t output_file_bytes_ = 0;
};

} // namespace ofwatchdog::modes
