#pragma once
// `mode=static`: a file server rooted at `static_path` (docs/decisions.md, static-methods and
// static-confinement). The per-request work is StaticExchange's; see docs/static-mode.md for the
// behaviour in full.

#include <functional>
#include <memory>

#include "ofwatchdog/mode_strategy.hpp"
#include "ofwatchdog/request_job.hpp"

namespace ofwatchdog::modes {

namespace static_files {
struct StaticShared;
}

class StaticFileMode : public ModeStrategy {
public:
  StaticFileMode();
  ~StaticFileMode() override;

  // Logs `Serving files at: <static_path>` and resolves the root's real path once. A missing
  // directory is a warning, not a failure: requests get 404 until it appears.
  int start(ModeContext& context) override;
  void handle(std::shared_ptr<Exchange> exchange) override;
  // Calls `done` once no request holds a file or a file-system request any more.
  void stop(std::function<void()> done) override;

private:
  std::shared_ptr<static_files::StaticShared> shared_;
  std::shared_ptr<JobRegistry> registry_;
};

} // namespace ofwatchdog::modes

namespace ofwatchdog {
// The static mode, for the Watchdog to use when `mode=static`.
std::unique_ptr<ModeStrategy> make_static_file_mode();
} // namespace ofwatchdog
