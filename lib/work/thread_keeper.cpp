#include "work/thread_keeper.hpp"

#include "util/invariant.hpp"
#include <cstdio>
#include <cstdlib>
#include <exception>

namespace ofwatchdog::work {

namespace {

// Threads woken at once to leave a shrinking pool: enough that the waits for the scheduler
// overlap, few enough that the loop never queues behind them.
constexpr unsigned kRetireBatch = 32;

} // namespace

ThreadKeeper::ThreadKeeper(StartThread start, Hooks hooks)
    : start_(std::move(start)), hooks_(std::move(hooks)) {
  if (!start_) {
    start_ = [](std::function<void()> body) {
      auto thread = std::make_shared<std::thread>(std::move(body));
      return std::function<void()>([thread] { thread->join(); });
    };
  }
  thread_ = std::thread([this] { run(); });
}

ThreadKeeper::~ThreadKeeper() {
  // Destroying a joinable std::thread would std::terminate with less to go on.
  OFW_INVARIANT(!thread_.joinable(), "a ThreadKeeper is destroyed after its thread was joined");
}

void ThreadKeeper::wake() {
  {
    std::lock_guard lock(mutex_);
    wanted_ = true;
  }
  changed_.notify_one();
}

void ThreadKeeper::exited(std::uint64_t id) {
  {
    std::lock_guard lock(mutex_);
    exited_.push_back(id);
  }
  changed_.notify_one();
}

void ThreadKeeper::close() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    retiring_ = 0; // whatever a shrink woke, every thread is to leave now
  }
  changed_.notify_one();
}

void ThreadKeeper::join() {
  if (thread_.joinable())
    thread_.join();
}

void ThreadKeeper::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    while (!exited_.empty()) {
      std::uint64_t id = exited_.back();
      exited_.pop_back();
      auto it = joins_.find(id);
      // Every id comes from a start below, recorded before the keeper looks here again.
      OFW_INVARIANT(it != joins_.end(), "a ThreadKeeper sees only threads it started exit");
      std::function<void()> join = std::move(it->second);
      joins_.erase(it);
      lock.unlock();
      join();         // the thread's last act was exited(), so this waits only for it to end
      join = nullptr; // what the join owned (a stack mapping, say) goes here, off the loop
      lock.lock();
      if (retiring_ > 0)
        --retiring_;
    }
    if (closing_ && joins_.empty())
      break;
    if (!closing_ && wanted_) {
      wanted_ = false;
      // Threads woken to leave may have stayed, the size having grown meanwhile.
      retiring_ = 0;
      start_claimed(lock);
      continue; // threads may have exited meanwhile
    }
    if (retiring_ == 0) {
      lock.unlock();
      unsigned woke = hooks_.retire(kRetireBatch);
      lock.lock();
      // The next few are woken once these have exited; nothing to retire waits for a wake.
      retiring_ = woke;
    }
    // Closed, the keeper also wakes for the next few to retire; open, a wake brings those.
    changed_.wait(lock, [this] {
      return !exited_.empty() || (closing_ ? joins_.empty() || retiring_ == 0 : wanted_);
    });
  }
  lock.unlock();
  hooks_.finished();
}

void ThreadKeeper::start_claimed(std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  // `claim` takes the pool's lock, and says no once the pool is stopping.
  while (hooks_.claim()) {
    std::uint64_t id = next_id_++;
    std::function<void()> join;
    std::string failure;
    try {
      join = start_([this, id] { hooks_.body(id); });
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "unknown exception";
    }
    if (!join) {
      hooks_.failed(failure.empty() ? std::string("no join returned") : failure);
      break;
    }
    lock.lock();
    joins_.emplace(id, std::move(join));
    lock.unlock();
  }
  lock.lock();
}

} // namespace ofwatchdog::work
