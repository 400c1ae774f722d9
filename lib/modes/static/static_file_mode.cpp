// The static mode; see static_file_mode.hpp.
#include "modes/static/static_file_mode.hpp"

#include <fmt/format.h>
#include <uv.h>

#include "http/file_sender.hpp"
#include "modes/static/static_exchange.hpp"
#include "util/env_switch.hpp"

namespace ofwatchdog::modes {

StaticFileMode::StaticFileMode()
    : shared_(std::make_shared<static_files::StaticShared>()),
      registry_(std::make_shared<JobRegistry>()) {}

StaticFileMode::~StaticFileMode() = default;

int StaticFileMode::start(ModeContext& context) {
  ModeStrategy::start(context);
  shared_->root = context.config->static_path;
  context.log->info(fmt::format("Serving files at: {}", shared_->root));

  // These two look-ups run synchronously (no callback) because start() comes before the
  // listener is bound: there is no request yet that they could hold up.
  uv_fs_t req;
  int rc = uv_fs_realpath(context.loop, &req, shared_->root.c_str(), nullptr);
  if (rc == 0 && req.ptr != nullptr)
    shared_->real_root = static_cast<const char*>(req.ptr);
  uv_fs_req_cleanup(&req);
  if (rc != 0) {
    context.log->info(fmt::format("Warning: static_path {} cannot be served ({}); requests get "
                                  "404 until it exists",
                                  shared_->root, uv_strerror(rc)));
  }
  rc = uv_fs_stat(context.loop, &req, "/proc/self/fd", nullptr);
  shared_->proc_fd = rc == 0;
  uv_fs_req_cleanup(&req);
  // OFWATCHDOG_STATIC_INLINE=0 turns both fast paths off (the resolve on the loop, and sendfile
  // calls on the loop for cached ranges), so the tests can compare its answers
  // with the thread-pool job's.
  bool inline_allowed = env_switch("OFWATCHDOG_STATIC_INLINE", true);
  shared_->inline_resolver.configure(shared_->root, shared_->real_root, inline_allowed);
  http::FileSender::set_inline_calls(inline_allowed);
  return 0;
}

void StaticFileMode::handle(std::shared_ptr<Exchange> exchange) {
  static_files::StaticExchange::start(context_, std::move(exchange), shared_, registry_);
}

void StaticFileMode::stop(std::function<void()> done) {
  // The server cancelled whatever was still running before this; those requests are only
  // waiting for their last file-system callbacks.
  registry_->when_empty(std::move(done));
}

} // namespace ofwatchdog::modes

namespace ofwatchdog {
std::unique_ptr<ModeStrategy> make_static_file_mode() {
  return std::make_unique<modes::StaticFileMode>();
}
} // namespace ofwatchdog
