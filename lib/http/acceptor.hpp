#pragma once
// The listening socket and its accept loop, including what happens when descriptors run out.
//
// libuv's own accept (uv_listen) meets EMFILE by closing a spare descriptor, accepting every
// client waiting in the backlog and closing each at once: those clients see their connection
// closed or reset without an answer. So the server accepts by itself, from a uv_poll_t on the
// socket, and keeps the clients it cannot serve yet waiting in the kernel's backlog instead:
//
// - While accepting, the acceptor holds a few spare descriptors (duplicates of the listening
//   socket). A client is therefore accepted only while more descriptors than that are free.
// - When accept() fails for want of descriptors or memory, accepting pauses and the spares are
//   closed: the connections already accepted can then still open what serving them takes (a
//   function's three pipes, an upstream socket, a file). New clients queue in the backlog.
// - Accepting resumes once all the spares can be taken again. That is tried when the server
//   reports a freed descriptor (a connection closed) and on a back-off timer, for descriptors
//   freed elsewhere: 5 ms, doubled at each failure up to 1 s, as Go's http.Server waits.
//
// Every path is in `State` and moved by `pause` and `try_resume` (and `close`, for good):
//
//   idle --listen--> accepting --accept fails--> paused --spares retaken--> accepting
//   any --close--> closed
//
//   Acceptor acceptor(loop, 16, [](int fd) { /* a new client, non-blocking, close-on-exec */ });
//   if (int rc = acceptor.listen(8080); rc != 0) fail(rc);
//   acceptor.descriptor_freed(); // after closing a connection
//   acceptor.close([] { /* both handles closed: the acceptor may be destroyed */ });

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include <uv.h>

namespace ofwatchdog::http {

class Acceptor {
public:
  // Receives each accepted socket, which it then owns.
  using AcceptCallback = std::function<void(int fd)>;

  // `spares`: how many descriptors to keep free for the connections already accepted.
  Acceptor(uv_loop_t* loop, std::size_t spares, AcceptCallback on_accept);
  ~Acceptor();
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  // Binds `port` (0 picks a free one) on every interface, IPv6 and IPv4 where available, and
  // starts accepting. Returns 0 or a negative libuv error code.
  int listen(int port);
  // The bound port, or 0 before `listen`.
  int port() const;
  // Something of ours released a descriptor: a paused acceptor tries to resume at once.
  void descriptor_freed();
  // Stops accepting for good and closes the socket (the backlog's clients are refused by the
  // kernel). `done` runs once no handle is open; at once when none was.
  void close(std::function<void()> done);
  // Whether a handle is still open, so that the acceptor must not be destroyed yet.
  bool busy() const { return open_handles_ > 0; }
  bool paused() const { return state_ == State::paused; }

private:
  enum class State { idle, accepting, paused, closed };

  static constexpr int kBacklog = 511;
  // Clients accepted in one callback at most, so a flood of connections does not starve the
  // reads and writes of the others; the socket stays readable and the loop comes back.
  static constexpr int kAcceptBatch = 64;
  static constexpr std::uint64_t kFirstRetryMs = 5;
  static constexpr std::uint64_t kLastRetryMs = 1000;

  int open_socket(const struct sockaddr* address, socklen_t length);
  void start_polling();
  void start_retry_timer();
  void accept_pending();
  void pause();
  // From the timer (`from_timer`) or a freed descriptor; a failure from the timer waits longer.
  void try_resume(bool from_timer);
  bool take_spares();
  void release_spares();
  void close_handle(uv_handle_t* handle);

  uv_loop_t* loop_;
  AcceptCallback on_accept_;
  State state_ = State::idle;
  int fd_ = -1;
  uv_poll_t poll_{};
  uv_timer_t retry_{};
  std::uint64_t retry_ms_ = 0;
  std::size_t spares_wanted_;
  std::vector<int> spares_; // reserved for spares_wanted_, so taking them never allocates
  int open_handles_ = 0;
  std::function<void()> on_closed_;
};

} // namespace ofwatchdog::http
