#pragma once
// Bytes for tests that move large bodies through pipes and files: a pattern that tells every
// offset apart, and an in-memory file holding given bytes.

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>

#include <sys/mman.h>
#include <unistd.h>

namespace ofwatchdog::testing {

// `size` bytes whose value depends on the offset and on `seed`, so that a byte moved to the
// wrong place, or taken from another body, shows.
inline std::string pattern(std::size_t size, std::size_t seed) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>((i * 131 + seed * 7 + i / 251) & 0xff);
  return s;
}

// An in-memory file holding `data`; the caller closes it.
inline int memfd_with(const std::string& data) {
  int fd = ::memfd_create("ofwatchdog-test", MFD_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, data.data(), data.size(), 0) == static_cast<ssize_t>(data.size()));
  return fd;
}

} // namespace ofwatchdog::testing
