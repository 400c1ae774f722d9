#pragma once
// Host file metadata in the guest's terms.

#include <sys/stat.h>

#include <ctime>

#include "wasi/abi.hpp"

namespace ofwatchdog::wasi {

abi::Filetype filetype_of_mode(mode_t mode);
// A d_type of getdents64 (DT_*).
abi::Filetype filetype_of_dirent(unsigned char type);
abi::Filestat filestat_of(const struct stat& info);
// Nanoseconds since the epoch (or since the clock's start); 0 before it.
std::uint64_t timestamp_of(const timespec& time);

} // namespace ofwatchdog::wasi
