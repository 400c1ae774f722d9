#pragma once
// File helpers shared by the unit tests: descriptor counting (leak checks), writing fixtures
// and temporary directories.
#include <catch2/catch.hpp>

#include <dirent.h>

#include <cstdlib>
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

// A fresh directory, /tmp/ofwd-<tag>-XXXXXX, held as its real path in `base` and removed with
// everything in it when the object goes. Test fixtures build their trees under it.
struct TempDir {
  explicit TempDir(const std::string& tag) {
    std::string pattern = "/tmp/ofwd-" + tag + "-XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    char* real = ::realpath(pattern.c_str(), nullptr);
    REQUIRE(real != nullptr);
    base = real;
    std::free(real);
  }
  ~TempDir() { std::system(("rm -rf '" + base + "'").c_str()); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string base;
};

} // namespace ofwatchdog::testing
