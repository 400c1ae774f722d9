// The WorkerPool behind make_worker_pool: threads of its own (started and joined by a
// ThreadKeeper, off the loop), a bounded queue of jobs, and one inbox through which workers
// reach the loop (wakeups for pumps, log lines, the keeper's end).
#include "ofwatchdog/worker_pool.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "util/invariant.hpp"
#include "work/exchange_pump.hpp"
#include "work/loop_inbox.hpp"
#include "work/loop_log.hpp"
#include "work/loop_thread.hpp"
#include "work/thread_keeper.hpp"
#include "work/work_link.hpp"
#include "work/worker_context.hpp"

namespace ofwatchdog {

namespace {

using work::WorkLink;

class ThreadWorkerPool final : public WorkerPool {
public:
  ThreadWorkerPool(uv_loop_t* loop, Logger& log, const WorkerPoolOptions& options)
      : inbox_(loop), log_(inbox_, log), on_thread_start_(options.on_thread_start),
        on_thread_exit_(options.on_thread_exit), spin_(options.spin),
        keeper_(options.start_thread, keeper_hooks()) {
    unsigned threads = options.threads;
    if (threads == 0)
      threads = std::max(1u, std::thread::hardware_concurrency());
    queue_limit_ = options.queue_limit != 0 ? options.queue_limit : 64 * std::size_t{threads};
    marks_.high = options.high_water;
    marks_.low = std::min(options.low_water, options.high_water);
    set_threads(threads);
  }

  ~ThreadWorkerPool() override {
    // Destroying running threads would std::terminate; destroying the inbox with its handle
    // open would corrupt the loop. Either is a caller's broken promise: say so and stop.
    OFW_INVARIANT(stopped_, "a WorkerPool is destroyed only after stop's done");
  }

  bool submit(std::shared_ptr<Exchange> exchange, WorkJob job, WorkDone done) override {
    loop_thread_.check("WorkerPool::submit");
    if (stopping_)
      return false;
    {
      std::lock_guard lock(mutex_);
      if (queue_.size() >= queue_limit_)
        return false;
    }
    std::shared_ptr<WorkLink> link = WorkLink::create(exchange->request(), marks_, inbox_);
    WorkLink* key = link.get();
    live_.emplace(key, link);
    // A request cancelled while it waits leaves the queue at once; its pump then hears that
    // the work is over. (The hook runs on the tripping thread, with no lock held.)
    link->token.on_trip([this, key] { withdraw(key); });
    work::ExchangePump::start(
        exchange, link,
        [this, key, exchange, user_done = std::move(done)](const WorkOutcome& outcome) {
          live_.erase(key);
          if (user_done)
            user_done(outcome);
          else
            work::answer_unfinished(*exchange, outcome);
          finish_stop_when_idle();
        });
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      queue_.push_back({std::move(link), std::move(job), nullptr, nullptr, 0});
      queued_count_.store(queue_.size(), std::memory_order_relaxed);
      // A spinning thread takes the job without a wake-up; it checks the queue under this lock
      // before it sleeps, so the job cannot be missed.
      wake = spinning_ == 0;
    }
    if (wake)
      queued_.notify_one();
    return true;
  }

  std::uint64_t run(std::function<void()> task, std::function<void()> done) override {
    loop_thread_.check("WorkerPool::run");
    if (stopping_)
      return 0;
    std::uint64_t number = ++last_run_;
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      if (queue_.size() >= queue_limit_)
        return 0;
      queue_.push_back({nullptr, nullptr, std::move(task), std::move(done), number});
      queued_count_.store(queue_.size(), std::memory_order_relaxed);
      wake = spinning_ == 0;
    }
    ++runs_live_;
    if (wake)
      queued_.notify_one();
    return number;
  }

  bool withdraw(std::uint64_t number) override {
    loop_thread_.check("WorkerPool::withdraw");
    Task task;
    {
      std::lock_guard lock(mutex_);
      auto it = std::find_if(queue_.begin(), queue_.end(), [number](const Task& queued) {
        return queued.link == nullptr && queued.number == number;
      });
      if (it == queue_.end())
        return false; // a thread has it, or it is done
      task = std::move(*it);
      queue_.erase(it);
      queued_count_.store(queue_.size(), std::memory_order_relaxed);
    }
    // Later, as if it had run: the caller may be inside a callback it would not expect `done` in.
    inbox_.post([this, done = std::move(task.plain_done)] {
      --runs_live_;
      if (done)
        done();
      finish_stop_when_idle();
    });
    return true;
  }

  void set_threads(unsigned threads) override {
    loop_thread_.check("WorkerPool::set_threads");
    if (stopping_)
      return;
    threads = std::max(threads, 1u);
    {
      std::lock_guard lock(mutex_);
      target_ = threads;
    }
    spin_generation_.fetch_add(1, std::memory_order_relaxed);
    // The loop only records the size; the keeper starts what is missing, or wakes the idle
    // threads above the size a few at a time to leave, on its own thread. (Waking thousands at
    // once held the loop for half a second: the wake-ups themselves, then thousands of threads
    // ahead of it for the CPUs and the lock.)
    keeper_.wake();
  }

  WorkerPoolStats stats() const override {
    loop_thread_.check("WorkerPool::stats");
    std::lock_guard lock(mutex_);
    return WorkerPoolStats{target_, busy_, queue_.size()};
  }

  void stop(std::function<void()> done) override {
    loop_thread_.check("WorkerPool::stop");
    if (stopping_)
      return;
    stopping_ = true;
    stop_done_ = std::move(done);
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    spin_generation_.fetch_add(1, std::memory_order_relaxed);
    // The keeper wakes the idle threads a few at a time to leave, as for a shrink (see
    // set_threads).
    keeper_.close();
    // Every request still here is cancelled: blocked workers wake, queued jobs are skipped.
    // A pump may end (and leave live_) while being shut down, so go over a copy.
    std::vector<std::shared_ptr<WorkLink>> links;
    for (auto& [key, link] : live_)
      links.push_back(link);
    for (auto& link : links)
      if (link->pump != nullptr)
        link->pump->shut_down();
    finish_stop_when_idle();
  }

private:
  // A job bound to an exchange (`link` and `job`), or a plain task and its `done` (`run`).
  struct Task {
    std::shared_ptr<WorkLink> link;
    WorkJob job;
    std::function<void()> plain;
    std::function<void()> plain_done;
    std::uint64_t number = 0; // of a plain task, for withdraw
  };

  // Any thread (a token's hook): takes the request's job out of the queue if no thread has
  // taken it yet, and ends its work, so its pump can answer now.
  void withdraw(WorkLink* key) {
    std::shared_ptr<WorkLink> link;
    {
      std::lock_guard lock(mutex_);
      auto it = std::find_if(queue_.begin(), queue_.end(), [key](const Task& task) {
        return task.link != nullptr && task.link.get() == key;
      });
      if (it == queue_.end())
        return; // a thread has it: run_job sees the token
      link = std::move(it->link);
      queue_.erase(it);
      queued_count_.store(queue_.size(), std::memory_order_relaxed);
    }
    link->end_work();
  }

  work::ThreadKeeper::Hooks keeper_hooks() {
    work::ThreadKeeper::Hooks hooks;
    hooks.claim = [this] {
      std::lock_guard lock(mutex_);
      // Threads that are leaving no longer count, so a quick shrink and grow replaces them.
      if (closing_ || running_ >= target_)
        return false;
      ++running_;
      return true;
    };
    hooks.failed = [this](const std::string& why) {
      unsigned asked = 0;
      unsigned reached = 0;
      {
        std::lock_guard lock(mutex_);
        --running_;
        asked = target_;
        // The pool stays at what it has: stats() and the caller's readers say so, and the
        // next resize tries again.
        target_ = std::min(target_, running_);
        reached = running_;
      }
      log_.info("worker pool: cannot start a thread (" + why + "); the pool stays at " +
                std::to_string(reached) + " of the " + std::to_string(asked) +
                " threads asked for");
    };
    hooks.retire = [this](unsigned at_most) {
      unsigned leaving = 0;
      {
        std::lock_guard lock(mutex_);
        // Once closing every thread leaves (the keeper asks until all have); a notify that
        // finds no waiter is harmless.
        if (closing_)
          leaving = at_most;
        else if (running_ > target_)
          leaving = std::min(running_ - target_, at_most);
      }
      for (unsigned i = 0; i < leaving; ++i)
        queued_.notify_one(); // a thread that wakes above the size, or closing, leaves
      return leaving;
    };
    hooks.body = [this](std::uint64_t id) { work(id); };
    hooks.finished = [this] {
      // The keeper's last act: the loop joins it, which waits only for it to end.
      inbox_.post([this] {
        keeper_.join();
        keeper_done_ = true;
        finish_stop_when_idle();
      });
    };
    return hooks;
  }

  // Worker thread.
  void work(std::uint64_t id) {
    if (on_thread_start_)
      on_thread_start_();
    // A thread spins only after a job: a new one has nothing yet that jobs come fast after,
    // and thousands of new threads spinning at once would crowd out the loop.
    bool served = false;
    for (;;) {
      Task task;
      {
        std::unique_lock lock(mutex_);
        if (served && spin_.count() > 0 && queue_.empty() && !closing_ && running_ <= target_)
          spin_for_job(lock);
        queued_.wait(lock, [this] { return closing_ || !queue_.empty() || running_ > target_; });
        if (!closing_ && running_ > target_) {
          --running_; // the pool shrank: this thread leaves
          // The wake-up it took may have been a job's: it passes it on to a thread that stays.
          if (!queue_.empty())
            queued_.notify_one();
          break;
        }
        // Jobs still queued at stop are run anyway: their tokens are tripped, so run_job ends
        // them at once and their pumps hear of it.
        if (queue_.empty())
          break;
        task = std::move(queue_.front());
        queue_.pop_front();
        queued_count_.store(queue_.size(), std::memory_order_relaxed);
        ++busy_;
      }
      if (task.link)
        work::run_job(task.link, task.job, log_);
      else
        run_plain(task);
      served = true;
      std::lock_guard lock(mutex_);
      --busy_;
    }
    if (on_thread_exit_)
      on_thread_exit_();
    // The thread's last act: the keeper joins it from here on.
    keeper_.exited(id);
  }

  // Worker thread: a task of `run`, then its `done` posted to the loop (before this thread can
  // exit, so before the inbox closes).
  void run_plain(Task& task) {
    try {
      task.plain();
    } catch (const std::exception& e) {
      log_.info(std::string("worker pool: a task threw: ") + e.what());
    } catch (...) {
      log_.info("worker pool: a task threw");
    }
    inbox_.post([this, done = std::move(task.plain_done)] {
      --runs_live_;
      if (done)
        done();
      finish_stop_when_idle();
    });
  }

  // Worker thread, with `lock` held on entry and on return: polls the queue without the lock
  // for up to `spin_`, or until a resize or a stop, which the wait after it then sees.
  void spin_for_job(std::unique_lock<std::mutex>& lock) {
    ++spinning_;
    unsigned generation = spin_generation_.load(std::memory_order_relaxed);
    lock.unlock();
    auto until = std::chrono::steady_clock::now() + spin_;
    while (queued_count_.load(std::memory_order_relaxed) == 0 &&
           spin_generation_.load(std::memory_order_relaxed) == generation &&
           std::chrono::steady_clock::now() < until) {
      // Lets the loop thread or a client on this CPU run first; alone, it returns at once.
      std::this_thread::yield();
    }
    lock.lock();
    --spinning_;
  }

  // Loop thread: once stopping, every thread has been joined and every pump has ended, closes
  // the inbox; `done` follows from its close callback.
  void finish_stop_when_idle() {
    if (!stopping_ || stop_finishing_ || !keeper_done_ || !live_.empty() || runs_live_ != 0)
      return;
    stop_finishing_ = true;
    inbox_.close([this] {
      stopped_ = true;
      auto done = std::move(stop_done_);
      if (done)
        done();
    });
  }

  work::LoopThread loop_thread_;
  work::LoopInbox inbox_;
  work::LoopLog log_;
  work::Watermarks marks_;
  std::size_t queue_limit_ = 0;
  std::function<void()> on_thread_start_;
  std::function<void()> on_thread_exit_;
  std::chrono::microseconds spin_;

  mutable std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<Task> queue_; // guarded by mutex_
  bool closing_ = false;   // guarded by mutex_
  unsigned target_ = 0;    // guarded by mutex_: the size asked for
  unsigned running_ = 0;   // guarded by mutex_: threads started and not leaving
  unsigned busy_ = 0;      // guarded by mutex_
  unsigned spinning_ = 0;  // guarded by mutex_: threads in spin_for_job
  // queue_.size() as of the last change, read by spinning threads without the lock.
  std::atomic<std::size_t> queued_count_{0};
  // Bumped by a resize and a stop: a spinning thread stops spinning and looks under the lock.
  std::atomic<unsigned> spin_generation_{0};

  // Loop thread only.
  std::unordered_map<WorkLink*, std::shared_ptr<WorkLink>> live_;
  std::size_t runs_live_ = 0;  // tasks of `run` whose `done` has not run yet
  std::uint64_t last_run_ = 0; // the number of the last task of `run`
  bool stopping_ = false;
  bool keeper_done_ = false; // every thread and the keeper's own have been joined
  bool stop_finishing_ = false;
  bool stopped_ = false;
  std::function<void()> stop_done_;

  // Last: its thread uses the members above through the hooks, from construction on.
  work::ThreadKeeper keeper_;
};

} // namespace

std::unique_ptr<WorkerPool> make_worker_pool(uv_loop_s* loop, Logger& log,
                                             WorkerPoolOptions options) {
  return std::make_unique<ThreadWorkerPool>(loop, log, options);
}

} // namespace ofwatchdog
