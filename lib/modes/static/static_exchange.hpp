#pragma once
// One static-mode request, from the request path to the last byte of the file (docs/static-mode.md;
// docs/decisions.md, static-methods, static-confinement, static-content-types).
//
// Flow. The method and the path are checked first (405, 404, the `index.html` redirect). Then
// the fast path (inline_resolve.hpp) tries to find the same result on the loop without waiting;
// when it cannot, one job on libuv's thread pool (resolve.hpp) does every file-system step: open
// the target, resolve the opened file's real path (through `/proc/self/fd/N`, so the file checked
// is the file opened, not whatever the name points to a moment later), `fstat` it, and for a
// directory asked for with a trailing slash its `index.html` (checked the same way) or its entries;
// a small file comes back read and closed, a larger one open. Back on the loop: anything outside
// the root's real path gets 404, a directory gets its redirect, a 304, its index.html or a listing;
// a regular file gets its conditional answers, its range, its content type and its bytes, sent
// at once when they were read, else through a FileBody.
//
// Its mode's registry owns it (request_job.hpp). It finishes once the exchange is over (answered
// or cancelled) and every descriptor it opened is closed; RequestJob destroys it once no
// file-system request of it is in flight.

#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "modes/static/file_body.hpp"
#include "modes/static/inline_resolve.hpp"
#include "modes/static/resolve.hpp"
#include "ofwatchdog/exchange.hpp"
#include "ofwatchdog/mode_strategy.hpp"
#include "ofwatchdog/request_job.hpp"

namespace ofwatchdog::modes::static_files {

// What every request of one static mode shares.
struct StaticShared {
  std::string root;               // `static_path` as configured
  std::string real_root;          // its realpath; empty until it could be resolved
  bool proc_fd = false;           // `/proc/self/fd` is there to name open descriptors
  InlineResolver inline_resolver; // the fast path on the loop (inline_resolve.hpp)

  // `Last-Modified` text of the last mtime formatted. Keyed by the exact time, so it can never
  // be wrong; a file served many times in a row is then formatted once.
  std::string_view last_modified(std::time_t mtime);

private:
  std::optional<std::time_t> formatted_mtime_;
  std::string formatted_text_;
};

class StaticExchange final : public RequestJob {
public:
  // Serves `exchange`; everything after this happens in callbacks.
  static void start(const ModeContext& context, std::shared_ptr<Exchange> exchange,
                    std::shared_ptr<StaticShared> shared, std::shared_ptr<JobRegistry> registry);

  // ExchangeHandler. The request body is not used: it is read and dropped.
  void on_body(std::string_view) override {}
  void on_body_end() override {}
  void on_writable() override;
  void on_cancel(CancelReason reason) override;
  // RequestJob. The server cancels its exchanges before the mode stops, so this only ends a
  // request that is somehow still answering.
  void shut_down() override;

private:
  StaticExchange(const ModeContext& context, std::shared_ptr<Exchange> exchange,
                 std::shared_ptr<StaticShared> shared, std::shared_ptr<JobRegistry> registry);

  void run();
  static void work(uv_work_t* work);
  static void after_work(uv_work_t* work, int status);
  void on_resolved();
  bool abandoned();

  void serve_directory();
  void send_listing();
  void serve_file();
  void send_file();
  void on_body_done(int status);

  void answer_error(int uv_error);
  void answer_text(int status, std::string_view text, HeaderList extra = {});
  void answer_redirect(std::string location);
  void answer_empty(int status, HeaderList headers, std::optional<std::uint64_t> length);
  void end_response();
  void release();
  void close_next();
  static void on_closed(uv_fs_t* req);

  std::shared_ptr<StaticShared> shared_;
  const Request& request_;

  // The resolve job: its input and result are touched by the pool thread only while
  // `fs_busy_` is set, and by the loop only while it is not.
  uv_work_t work_{};
  ResolveInput input_;
  ResolveResult result_;
  uv_fs_t close_req_{};
  bool fs_busy_ = false;
  bool close_inline_ = false; // the descriptor came from the fast path: see close_next

  std::vector<uv_file> open_fds_;
  std::uint64_t range_first_ = 0;
  std::uint64_t range_length_ = 0;
  bool partial_ = false;
  std::optional<FileBody> body_;

  // The client's side: open, answered (this request finished or aborted it), or cancelled (the
  // exchange ended it). open -> answered | cancelled, nothing else; only `end_answer` moves it.
  enum class Answer : std::uint8_t { open, answered, cancelled };
  Answer answer_ = Answer::open;
  void end_answer(Answer to);
  bool releasing_ = false;
};

} // namespace ofwatchdog::modes::static_files
