#pragma once
// Runs a build tool (wasm2c, the C compiler) to completion, blocking, with its output captured.
// The compile driver runs before the loop starts or on a thread of its own, never on the loop.

#include <sys/types.h>

#include <mutex>
#include <string>
#include <vector>

namespace ofwatchdog::wasm {

struct ToolResult {
  bool started = false; // false: the program could not be run at all (`output` says why)
  int exit_status = -1; // the exit status, or -1 when killed by a signal
  std::string output;   // stdout and stderr, interleaved
  bool succeeded() const { return started && exit_status == 0; }
};

// Lets another thread stop a compile: the running tool is killed with every process it
// started (each tool leads a process group of its own), and no later tool starts.
class ToolCancel {
public:
  void cancel();
  bool cancelled() const;

private:
  friend struct ToolCancelAccess;
  mutable std::mutex mutex_;
  bool cancelled_ = false; // guarded by mutex_
  pid_t group_ = 0;        // guarded by mutex_: the running tool's process group
};

// `argv[0]` is looked up in PATH; the tool runs in `directory` (empty: ours), with stdin
// from /dev/null and our environment, at the calling thread's CPU priority. With `cancel`,
// a cancelled run ends as a tool killed by SIGKILL.
ToolResult run_tool(const std::vector<std::string>& argv, const std::string& directory = {},
                    ToolCancel* cancel = nullptr);

// "cannot run <tool>: ..." or "<tool> failed (exit status N): <its output, cut at 4000 bytes>".
std::string tool_failure(const std::string& tool, const ToolResult& result);

} // namespace ofwatchdog::wasm
