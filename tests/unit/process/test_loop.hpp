#pragma once
// A libuv loop for unit tests that touch real processes and pipes. `run` returns when nothing
// is left to do, or fails the test after a deadline; the destructor checks, as libuv's own
// tests do, that every handle was closed.

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include <uv.h>

namespace ofwatchdog::testing {

class TestLoop {
public:
  TestLoop() { REQUIRE(uv_loop_init(&loop_) == 0); }
  ~TestLoop() {
    uv_run(&loop_, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop_) == 0);
  }
  TestLoop(const TestLoop&) = delete;
  TestLoop& operator=(const TestLoop&) = delete;

  uv_loop_t* get() { return &loop_; }

  // Runs until no handle is active; fails if that takes longer than `seconds`.
  void run(double seconds = 10) {
    uv_timer_t guard;
    uv_timer_init(&loop_, &guard);
    guard.data = this;
    timed_out_ = false;
    uv_timer_start(
        &guard,
        [](uv_timer_t* t) {
          auto* self = static_cast<TestLoop*>(t->data);
          self->timed_out_ = true;
          uv_stop(&self->loop_);
        },
        static_cast<std::uint64_t>(seconds * 1000), 0);
    uv_unref(reinterpret_cast<uv_handle_t*>(&guard)); // the guard alone keeps nothing alive
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_close(reinterpret_cast<uv_handle_t*>(&guard), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
    REQUIRE_FALSE(timed_out_);
  }

  // Runs until `done()` is true (checked after every loop iteration), with a deadline.
  template <typename Predicate> void run_until(Predicate done, double seconds = 10) {
    std::uint64_t deadline = uv_hrtime() + static_cast<std::uint64_t>(seconds * 1e9);
    while (!done()) {
      REQUIRE(uv_hrtime() < deadline);
      uv_run(&loop_, UV_RUN_ONCE);
    }
  }

private:
  uv_loop_t loop_;
  bool timed_out_ = false;
};

// Everything written to a tmpfile so far, for tests that inspect log output.
inline std::string read_all(std::FILE* f) {
  std::fflush(f);
  long end = std::ftell(f);
  std::string out(static_cast<std::size_t>(end), '\0');
  std::rewind(f);
  std::size_t n = std::fread(out.data(), 1, out.size(), f);
  out.resize(n);
  std::fseek(f, 0, SEEK_END);
  return out;
}

} // namespace ofwatchdog::testing
