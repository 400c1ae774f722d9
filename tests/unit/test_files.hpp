#pragma once
// File helpers shared by the unit tests: descriptor counting (leak checks) and writing fixtures.
#include <dirent.h>

#include <fstream>
#include <string>

namespace ofwatchdog::testing {

// The number of descriptors this process has open (plus the one used to list them).
inline int open_fd_count() {
  int count = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (::readdir(dir) != nullptr)
      ++count;
    ::closedir(dir);
  }
  return count;
}

inline void write_file(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

} // namespace ofwatchdog::testing
