// The pool of upstream connections; see upstream_pool.hpp.
#include "upstream/upstream_pool.hpp"

#include <algorithm>
#include <chrono>

namespace ofwatchdog::upstream {

UpstreamPool::UpstreamPool(uv_loop_t* loop, UpstreamUrl url, Duration idle_timeout,
                           std::size_t max_idle)
    : loop_(loop), url_(std::move(url)),
      idle_ms_(static_cast<std::uint64_t>(std::max<std::int64_t>(
          1, std::chrono::duration_cast<std::chrono::milliseconds>(idle_timeout).count()))),
      max_idle_(max_idle) {}

UpstreamPool::~UpstreamPool() {
  shut_down();
}

UpstreamConnection* UpstreamPool::take_idle() {
  if (idle_.empty())
    return nullptr;
  UpstreamConnection* connection = idle_.back();
  idle_.pop_back();
  connection->stop_idle_watch();
  return connection;
}

UpstreamConnection* UpstreamPool::open(UpstreamConnection::Listener* listener) {
  ++opened_;
  return UpstreamConnection::open(loop_, url_, listener);
}

void UpstreamPool::give_back(UpstreamConnection* connection) {
  if (shut_down_ || !connection->reusable()) {
    connection->close();
    return;
  }
  if (idle_.size() >= max_idle_) {
    // Full: the oldest idle one makes room, since it is the most likely to be stale.
    UpstreamConnection* oldest = idle_.front();
    idle_.erase(idle_.begin());
    oldest->close();
  }
  idle_.push_back(connection);
  connection->watch_idle(idle_ms_, [this, connection] {
    remove_idle(connection);
    connection->close();
  });
}

void UpstreamPool::shut_down() {
  shut_down_ = true;
  std::vector<UpstreamConnection*> idle = std::move(idle_);
  idle_.clear();
  for (UpstreamConnection* connection : idle)
    connection->close();
}

void UpstreamPool::remove_idle(UpstreamConnection* connection) {
  std::erase(idle_, connection);
}

} // namespace ofwatchdog::upstream
