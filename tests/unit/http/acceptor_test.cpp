// The acceptor in a real loop: it hands over accepted sockets, keeps a client waiting in the
// backlog while no descriptor can be opened, takes it once one is freed, and leaves nothing open
// after close(). The client is a non-blocking socket of this thread: a loopback connect
// completes in the kernel's backlog without the acceptor.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include <uv.h>

#include "http/acceptor.hpp"

using ofwatchdog::http::Acceptor;

namespace {

int connect_client(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  return fd;
}

// Runs the loop until `done` holds, or for at most two seconds (a guard timer wakes it).
template <typename Predicate> bool run_until(uv_loop_t* loop, Predicate done) {
  uv_timer_t guard;
  bool expired = false;
  uv_timer_init(loop, &guard);
  guard.data = &expired;
  uv_timer_start(
      &guard, [](uv_timer_t* timer) { *static_cast<bool*>(timer->data) = true; }, 2000, 0);
  while (!done() && !expired)
    uv_run(loop, UV_RUN_ONCE);
  uv_close(reinterpret_cast<uv_handle_t*>(&guard), nullptr);
  uv_run(loop, UV_RUN_NOWAIT); // runs the guard's close
  return done();
}

// Lowers the soft RLIMIT_NOFILE below every descriptor the process holds, so that none can be
// opened; the limit comes back when the object goes (also when a REQUIRE fails).
class NoDescriptorsLeft {
public:
  NoDescriptorsLeft() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit low = saved_;
    low.rlim_cur = 3;
    ::setrlimit(RLIMIT_NOFILE, &low);
  }
  ~NoDescriptorsLeft() { restore(); }
  void restore() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

private:
  rlimit saved_{};
};

struct Fixture {
  uv_loop_t loop{};
  std::vector<int> accepted;
  Acceptor acceptor{&loop, 4, [this](int fd) { accepted.push_back(fd); }};

  Fixture() { uv_loop_init(&loop); }
  ~Fixture() {
    for (int fd : accepted)
      ::close(fd);
    bool closed = false;
    acceptor.close([&closed] { closed = true; });
    run_until(&loop, [&] { return closed; });
    CHECK(closed);
    CHECK_FALSE(acceptor.busy());
    CHECK(uv_loop_close(&loop) == 0);
  }
};

} // namespace

TEST_CASE("acceptor: hands over each client and closes with nothing left open", "[acceptor]") {
  Fixture f;
  REQUIRE(f.acceptor.listen(0) == 0);
  REQUIRE(f.acceptor.port() > 0);
  int client = connect_client(f.acceptor.port());
  CHECK(run_until(&f.loop, [&] { return f.accepted.size() == 1; }));
  ::close(client);
}

TEST_CASE("acceptor: a client waits in the backlog while descriptors are out, and is taken once "
          "one is freed",
          "[acceptor]") {
  Fixture f;
  REQUIRE(f.acceptor.listen(0) == 0);
  int client = connect_client(f.acceptor.port());
  {
    NoDescriptorsLeft limit;
    REQUIRE(run_until(&f.loop, [&] { return f.acceptor.paused(); }));
    CHECK(f.accepted.empty());
    // Nothing can be opened yet, so the spares cannot be retaken: still paused.
    f.acceptor.descriptor_freed();
    CHECK(f.acceptor.paused());
    limit.restore();
    f.acceptor.descriptor_freed();
    CHECK_FALSE(f.acceptor.paused());
  }
  CHECK(run_until(&f.loop, [&] { return f.accepted.size() == 1; }));
  ::close(client);
}
