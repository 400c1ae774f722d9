#pragma once
// Starts and joins a worker pool's threads on a thread of its own.
//
// Making a thread costs a stack mapping and a clone, tens of microseconds each; a pool grown by
// thousands at once would hold the loop for a second or more, long enough for clients of every
// port to time out. So the loop only says how many threads it wants (the pool's target) and
// wakes the keeper, which starts them one by one, asking the pool before each start whether it
// is still wanted: a shrink or a stop in the middle of a large growth ends it at once. A shrink
// is paced too: the keeper has the pool wake a few idle threads above the size, waits for as
// many to leave, and wakes the next few, so thousands of threads never wake at once to crowd
// the loop off the CPUs and the pool's lock. Threads that leave hand themselves to the keeper to be
// joined, so a join (and the unmapping of a stack) never runs on the loop either.
//
// A thread that cannot be made (the process ran out of threads, mappings or address space) is
// not a crash: the keeper tells the pool why, and the pool stays at the threads it has.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace ofwatchdog::work {

class ThreadKeeper {
public:
  // Starts a thread running `body` and returns the call that joins it; throws (any
  // std::exception, whose what() says why) when no thread can be made.
  using StartThread = std::function<std::function<void()>(std::function<void()> body)>;

  struct Hooks {
    // Keeper thread, before each start: whether one more thread is wanted. Returning true
    // counts it as running in the pool's books, so the pool must call `exited` from that
    // thread once it leaves, or `failed` follows.
    std::function<bool()> claim;
    // Keeper thread: the thread claimed last could not be made, for the reason given; the
    // pool takes it off its books. No more starts are tried until the next `wake`.
    std::function<void(const std::string& why)> failed;
    // Keeper thread: when the pool has more threads than it wants (all of them, once closed),
    // wakes up to `at_most` idle ones to leave and says how many it woke; the keeper asks
    // again once as many threads have exited (every thread above the size leaves in the end),
    // or on `wake`, or on `close`.
    std::function<unsigned(unsigned at_most)> retire;
    // The body of the thread with this id; the thread's last act is `exited(id)`.
    std::function<void(std::uint64_t id)> body;
    // Keeper thread, its last act once closed and every thread it started has been joined.
    // `join` may be called from then on.
    std::function<void()> finished;
  };

  // Starts the keeper's own thread (std::thread: throws std::system_error if none can be made).
  ThreadKeeper(StartThread start, Hooks hooks);
  // The keeper's thread must have been joined.
  ~ThreadKeeper();
  ThreadKeeper(const ThreadKeeper&) = delete;
  ThreadKeeper& operator=(const ThreadKeeper&) = delete;

  // Any thread: the pool's target may have grown; start threads while `claim` says so.
  void wake();
  // The thread `id` (started by the keeper) is about to end: the keeper joins it.
  void exited(std::uint64_t id);
  // Any thread: no more starts; the keeper has every thread woken to leave, a few at a time,
  // and ends once every thread it started has exited.
  void close();
  // Joins the keeper's thread; call after `finished` has run (it returns at once then).
  void join();

private:
  void run();
  // Keeper thread, with `lock` held on entry and on return: starts threads while `claim`
  // agrees, until one cannot be made.
  void start_claimed(std::unique_lock<std::mutex>& lock);

  StartThread start_;
  Hooks hooks_;

  std::mutex mutex_;
  std::condition_variable changed_;
  bool wanted_ = false;   // guarded by mutex_: a wake not yet acted on
  unsigned retiring_ = 0; // guarded by mutex_: threads woken to leave and not yet exited
  bool closing_ = false;  // guarded by mutex_
  std::vector<std::uint64_t> exited_; // guarded by mutex_: threads waiting to be joined
  // Keeper thread only: the join of each thread started and not yet joined.
  std::unordered_map<std::uint64_t, std::function<void()>> joins_;
  std::uint64_t next_id_ = 0;
  std::thread thread_;
};

} // namespace ofwatchdog::work
