// resolve_program: a bare name searched on PATH once per (name, PATH), then remembered.
#include "process/program_path.hpp"

#include <sys/stat.h>

#include <unordered_map>

#include "process/process_error.hpp"

namespace ofwatchdog::process {

namespace {

bool is_executable_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return false;
  return !S_ISDIR(st.st_mode) && (st.st_mode & 0111) != 0;
}

std::string_view path_variable(const std::vector<std::string>& env) {
  std::string_view found;
  for (const std::string& entry : env) {
    if (entry.rfind("PATH=", 0) == 0)
      found = std::string_view(entry).substr(5); // the last one wins, as in the child
  }
  return found;
}

// Bare names already found on PATH: "name\0PATH" -> path. See resolve_program.
thread_local std::unordered_map<std::string, std::string> resolved_names;

std::string cache_key(std::string_view name, std::string_view path_var) {
  std::string key;
  key.reserve(name.size() + 1 + path_var.size());
  key.append(name).push_back('\0');
  key.append(path_var);
  return key;
}

} // namespace

void forget_resolution(const std::string& name, const std::vector<std::string>& env) {
  resolved_names.erase(cache_key(name, path_variable(env)));
}

ResolvedProgram resolve_program(std::string_view name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string_view::npos)
    return {std::string(name), {}};
  if (!name.empty()) {
    std::string_view path_var = path_variable(env);
    std::string key = cache_key(name, path_var);
    if (auto found = resolved_names.find(key); found != resolved_names.end())
      return {found->second, {}};
    std::string_view dirs = path_var;
    while (!dirs.empty()) {
      std::size_t colon = dirs.find(':');
      std::string_view dir = dirs.substr(0, colon);
      dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
      // An empty entry means the current directory, as in every shell.
      std::string candidate = std::string(dir.empty() ? "." : dir) + "/" + std::string(name);
      if (is_executable_file(candidate)) {
        resolved_names.emplace(std::move(key), candidate);
        return {candidate, {}};
      }
    }
  }
  return {{}, not_in_path_text(name)};
}

} // namespace ofwatchdog::process
