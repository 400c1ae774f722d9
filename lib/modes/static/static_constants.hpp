#pragma once
// Values shared by the files of StaticExchange.

#include <fcntl.h>

#include <string_view>

namespace ofwatchdog::modes::static_files {

inline constexpr std::string_view kTextType = "text/plain; charset=utf-8";
inline constexpr std::string_view kHtmlType = "text/html; charset=utf-8";

// O_NONBLOCK keeps opening a FIFO from stalling a thread-pool thread until a writer appears; it
// changes nothing for regular files and directories.
inline constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

} // namespace ofwatchdog::modes::static_files
