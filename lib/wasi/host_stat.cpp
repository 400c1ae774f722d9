#include "wasi/host_stat.hpp"

#include <dirent.h>

namespace ofwatchdog::wasi {

std::uint64_t timestamp_of(const timespec& time) {
  if (time.tv_sec < 0)
    return 0; // before 1970: WASI timestamps are unsigned
  return static_cast<std::uint64_t>(time.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(time.tv_nsec);
}

abi::Filetype filetype_of_mode(mode_t mode) {
  switch (mode & S_IFMT) {
  case S_IFREG:
    return abi::Filetype::regular_file;
  case S_IFDIR:
    return abi::Filetype::directory;
  case S_IFLNK:
    return abi::Filetype::symbolic_link;
  case S_IFCHR:
    return abi::Filetype::character_device;
  case S_IFBLK:
    return abi::Filetype::block_device;
  case S_IFSOCK:
    return abi::Filetype::socket_stream;
  default: // a FIFO has no WASI type
    return abi::Filetype::unknown;
  }
}

abi::Filetype filetype_of_dirent(unsigned char type) {
  switch (type) {
  case DT_REG:
    return abi::Filetype::regular_file;
  case DT_DIR:
    return abi::Filetype::directory;
  case DT_LNK:
    return abi::Filetype::symbolic_link;
  case DT_CHR:
    return abi::Filetype::character_device;
  case DT_BLK:
    return abi::Filetype::block_device;
  case DT_SOCK:
    return abi::Filetype::socket_stream;
  default:
    return abi::Filetype::unknown;
  }
}

abi::Filestat filestat_of(const struct stat& info) {
  abi::Filestat stat{};
  stat.dev = info.st_dev;
  stat.ino = info.st_ino;
  stat.filetype = filetype_of_mode(info.st_mode);
  stat.nlink = info.st_nlink;
  stat.size = static_cast<std::uint64_t>(info.st_size);
  stat.atim = timestamp_of(info.st_atim);
  stat.mtim = timestamp_of(info.st_mtim);
  stat.ctim = timestamp_of(info.st_ctim);
  return stat;
}

} // namespace ofwatchdog::wasi
