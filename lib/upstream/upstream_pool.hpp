#pragma once
// Persistent connections to the one upstream of http mode.
//
// A connection that has answered a request completely, and may carry another, waits here idle
// for up to `idle_timeout`. While idle it is read from, so an upstream that closes it is noticed
// at once and the connection leaves the pool: a request is never sent on a connection already
// known to be closed. A close that races with a new request can still happen; the caller may
// retry such a request once on a fresh connection (see http_proxy_exchange).
//
// The most recently used connection is handed out first: it is the least likely to have been
// closed by the upstream, and the others age out under light load.

#include <cstddef>
#include <cstdint>
#include <vector>

#include <uv.h>

#include "ofwatchdog/config.hpp"
#include "upstream/upstream_connection.hpp"
#include "upstream/upstream_url.hpp"

namespace ofwatchdog::upstream {

class UpstreamPool {
public:
  UpstreamPool(uv_loop_t* loop, UpstreamUrl url, Duration idle_timeout, std::size_t max_idle);
  // Closes the idle connections.
  ~UpstreamPool();
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  const UpstreamUrl& url() const { return url_; }

  // An idle connection, now the caller's, or nullptr when there is none.
  UpstreamConnection* take_idle();
  // A new connection, connecting; the result goes to `listener->on_connected`.
  UpstreamConnection* open(UpstreamConnection::Listener* listener);
  // The caller is done with `connection`: kept when it is reusable and there is room (and the
  // pool is not shut down), closed otherwise.
  void give_back(UpstreamConnection* connection);
  // Closes the idle connections and every one given back from now on.
  void shut_down();

  std::size_t idle_count() const { return idle_.size(); }
  std::uint64_t opened() const { return opened_; }

private:
  void remove_idle(UpstreamConnection* connection);

  uv_loop_t* loop_;
  UpstreamUrl url_;
  std::uint64_t idle_ms_;
  std::size_t max_idle_;
  std::vector<UpstreamConnection*> idle_; // oldest first
  std::uint64_t opened_ = 0;
  bool shut_down_ = false;
};

} // namespace ofwatchdog::upstream
