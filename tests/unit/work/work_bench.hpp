#pragma once
// The pieces of a worker pool laid out by hand on a test loop, so that tests can reach a
// request's link (its channels, their peaks, whether the worker is blocked): one inbox, a
// Logger writing to a tmpfile, and one worker thread per started job. And `PoolBench`, the
// public WorkerPool on a test loop.

#include <catch2/catch.hpp>

#include <cstdio>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "../process/test_loop.hpp"
#include "ofwatchdog/log.hpp"
#include "ofwatchdog/worker_pool.hpp"
#include "work/exchange_pump.hpp"
#include "work/loop_inbox.hpp"
#include "work/loop_log.hpp"
#include "work/work_link.hpp"
#include "work/worker_context.hpp"

namespace ofwatchdog::testing {

class WorkBench {
public:
  explicit WorkBench(TestLoop& loop)
      : loop_(loop), log_file_(std::tmpfile()),
        logger_(LogFormat::text, false, log_file_, log_file_), inbox_(loop.get()),
        log_(inbox_, logger_) {}
  ~WorkBench() {
    for (auto& worker : workers_)
      if (worker.joinable())
        worker.join();
    if (!closed_)
      close();
    std::fclose(log_file_);
  }

  // Binds `exchange` to a new link and runs `job` on a thread of its own.
  std::shared_ptr<work::WorkLink> start(std::shared_ptr<Exchange> exchange, WorkJob job,
                                        work::Watermarks marks = {}) {
    auto link = work::WorkLink::create(exchange->request(), marks, inbox_);
    work::ExchangePump::start(exchange, link, [this](const WorkOutcome& o) {
      outcome = o;
      done_on = std::this_thread::get_id();
    });
    workers_.emplace_back([link, job = std::move(job), this] { work::run_job(link, job, log_); });
    return link;
  }

  // Joins the workers, closes the inbox and runs the loop until nothing is left.
  void close() {
    for (auto& worker : workers_)
      if (worker.joinable())
        worker.join();
    closed_ = true;
    inbox_.close(nullptr);
    loop_.run();
  }

  std::string log_text() { return read_all(log_file_); }

  std::optional<WorkOutcome> outcome;
  std::thread::id done_on;

private:
  TestLoop& loop_;
  std::FILE* log_file_;
  Logger logger_;
  work::LoopInbox inbox_;
  work::LoopLog log_;
  std::vector<std::thread> workers_;
  bool closed_ = false;
};

// A pool on a test loop, logging to a tmpfile; `stop` stops it and waits for its `done`.
struct PoolBench {
  explicit PoolBench(TestLoop& test_loop, WorkerPoolOptions options)
      : loop(test_loop), file(std::tmpfile()), logger(LogFormat::text, false, file, file),
        pool(make_worker_pool(loop.get(), logger, options)) {}
  ~PoolBench() { std::fclose(file); }

  void stop() {
    bool stopped = false;
    pool->stop([&] { stopped = true; });
    loop.run_until([&] { return stopped; });
    pool.reset();
  }

  TestLoop& loop;
  std::FILE* file;
  Logger logger;
  std::unique_ptr<WorkerPool> pool;
};

} // namespace ofwatchdog::testing
