#pragma once
// Runs a build tool (wasm2c, the C compiler) to completion, blocking, with its output captured.
// The compile driver runs before the loop starts or on a thread of its own, never on the loop.

#include <string>
#include <vector>

namespace ofwatchdog::wasm {

struct ToolResult {
  bool started = false; // false: the program could not be run at all (`output` says why)
  int exit_status = -1; // the exit status, or -1 when killed by a signal
  std::string output;   // stdout and stderr, interleaved
  bool succeeded() const { return started && exit_status == 0; }
};

// `argv[0]` is looked up in PATH; the tool runs in `directory` (empty: ours), with stdin
// from /dev/null and our environment.
ToolResult run_tool(const std::vector<std::string>& argv, const std::string& directory = {});

} // namespace ofwatchdog::wasm
