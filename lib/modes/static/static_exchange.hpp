#pragma once
// One static-mode request, from the request path to the last byte of the file (modes.md §6 with
// decisions G1 and G2).
//
// Flow. The method and the path are checked first (405, 404, the `index.html` redirect). Then,
// one libuv file-system request at a time: open the target, resolve the opened file's real path
// (through `/proc/self/fd/N`, so the file checked is the file opened, not whatever the name
// points to a moment later) and refuse anything outside the root's real path with 404, `fstat`
// it, and answer: a directory gets its redirect, a 304, its `index.html` (opened and checked the
// same way) or a listing; a regular file gets its conditional answers, its range, its content
// type (sniffed from the first 512 bytes for unknown extensions) and then its bytes through a
// FileBody.
//
// The object owns itself. It is deleted once the exchange is over (answered or cancelled), no
// file-system request is in flight and every descriptor it opened is closed; nothing is deleted
// inside its own call stack (see `Entry`).

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
#include "ofwatchdog/exchange.hpp"
#include "util/call_depth_guard.hpp"
#include "ofwatchdog/mode_strategy.hpp"

namespace ofwatchdog::modes::static_files {

// What every request of one static mode shares.
struct StaticShared {
  std::string root;               // `static_path` as configured
  std::string real_root;          // its realpath; empty until it could be resolved
  bool proc_fd = false;           // `/proc/self/fd` is there to name open descriptors
  std::size_t live = 0;           // requests still holding something on the loop
  std::function<void()> on_empty; // set by the mode's stop(); run when `live` drops to zero
};

class StaticExchange final : public ExchangeHandler {
public:
  // Serves `exchange`; everything after this happens in callbacks.
  static void start(const ModeContext& context, std::shared_ptr<Exchange> exchange,
                    std::shared_ptr<StaticShared> shared);

  // ExchangeHandler. The request body is not used: it is read and dropped.
  void on_body(std::string_view) override {}
  void on_body_end() override {}
  void on_writable() override;
  void on_cancel(CancelReason reason) override;

private:
  // Every entry point holds one: see util/call_depth_guard.hpp.
  using Entry = CallDepthGuard<StaticExchange>;
  friend class CallDepthGuard<StaticExchange>;

  using Step = void (StaticExchange::*)(uv_fs_t* req);

  struct FileFacts {
    std::uint64_t size = 0;
    std::optional<std::time_t> mtime; // nothing for a zero or Unix-epoch time
    bool is_directory = false;
    bool is_regular = false;
  };

  StaticExchange(const ModeContext& context, std::shared_ptr<Exchange> exchange,
                 std::shared_ptr<StaticShared> shared);
  ~StaticExchange() override;

  void run();
  static void on_fs_done(uv_fs_t* req);
  void submitted(Step next, int rc);
  bool abandoned();

  void resolve_root();
  void on_root_resolved(uv_fs_t* req);
  void open_target();
  void on_target_opened(uv_fs_t* req);
  void check_real_path(uv_file fd, const std::string& name, Step next);
  void on_target_real(uv_fs_t* req);
  void on_target_stat(uv_fs_t* req);
  void serve_directory();
  void on_index_opened(uv_fs_t* req);
  void on_index_real(uv_fs_t* req);
  void on_index_stat(uv_fs_t* req);
  void list_directory();
  void on_listed(uv_fs_t* req);
  void serve_file(std::string_view name);
  void on_sniffed(uv_fs_t* req);
  void send_file(std::string content_type);
  void on_body_done(int status);

  std::optional<std::string> real_path_result(uv_fs_t* req) const;
  static FileFacts facts_from(const uv_stat_t& st);
  std::string descriptor_name(uv_file fd, const std::string& fallback) const;
  void answer_error(int uv_error);
  void answer_text(int status, std::string_view text, HeaderList extra = {});
  void answer_redirect(std::string location);
  void answer_empty(int status, HeaderList headers, std::optional<std::uint64_t> length);
  void end_response();
  void release();
  void close_next();
  static void on_closed(uv_fs_t* req);
  void destroy_if_finished();

  ModeContext context_;
  std::shared_ptr<Exchange> exchange_;
  std::shared_ptr<StaticShared> shared_;
  const Request& request_;

  uv_fs_t req_{};
  Step next_ = nullptr;
  bool fs_busy_ = false;

  std::string fs_path_;             // the target's name under the configured root
  std::string real_path_;           // the checked real path of the open target
  std::string real_check_fallback_; // the name given to the realpath or scandir in flight
  std::string index_name_;          // `<real directory>/index.html`
  uv_file target_fd_ = -1;          // the directory or file found at fs_path_
  uv_file file_fd_ = -1;            // the regular file being served (the target, or its index.html)
  std::vector<uv_file> open_fds_;
  FileFacts target_{};
  FileFacts file_{};
  std::uint64_t range_first_ = 0;
  std::uint64_t range_length_ = 0;
  bool partial_ = false;
  std::string sniff_buffer_;
  std::optional<FileBody> body_;

  int depth_ = 0;
  bool answered_ = false; // the exchange is over (answered or cancelled)
  bool cancelled_ = false;
  bool releasing_ = false;
  bool released_ = false;
};

} // namespace ofwatchdog::modes::static_files
