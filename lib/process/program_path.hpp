#pragma once
// Finding the program of `fprocess` before it is spawned, as Go's exec.LookPath does.

#include <string>
#include <string_view>
#include <vector>

namespace ofwatchdog::process {

// Where a program would be run from, or why it cannot be.
struct ResolvedProgram {
  std::string path;  // what to exec, when `error` is empty
  std::string error; // e.g. `exec: "x": executable file not found in $PATH`
};

// Resolves argv[0] the way Go's exec.LookPath does: a name containing `/` is used as is; a bare
// name is searched in the directories of `PATH` (from `env`) for a non-directory with an
// execute bit. This is done before spawning because the spawn's ENOENT cannot tell "no such
// path" from "not in PATH", and the two have different texts.
//
// A bare name found on PATH is remembered per (name, PATH) for the life of the thread, so the
// directory search (stat calls, which block the loop) happens once and not on every request:
// fprocess and its PATH do not change while the watchdog runs. A program installed later in an
// earlier PATH directory is therefore not picked up until restart; a remembered program that
// disappears fails to spawn, which forgets it, so the next request searches again.
ResolvedProgram resolve_program(std::string_view name, const std::vector<std::string>& env);

// Forgets what resolve_program remembered for `name` under the PATH of `env`: the spawn of what
// it found failed, so the next request searches again.
void forget_resolution(const std::string& name, const std::vector<std::string>& env);

} // namespace ofwatchdog::process
