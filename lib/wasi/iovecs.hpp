#pragma once
// The guest's iovec arrays, checked and turned into host ranges.
//
// The whole array and every buffer it names are checked before any byte moves, so a bad entry
// anywhere fails the call with EFAULT and no side effect. The total is kept within what a
// 32-bit `nread`/`nwritten` can report: entries past that are left out (a short transfer, which
// the guest's libc retries).

#include <sys/uio.h>

#include <cstdint>
#include <vector>

#include "wasi/abi.hpp"
#include "wasi/guest_view.hpp"

namespace ofwatchdog::wasi {

// More entries than this are left out of one transfer, as readv(2) would refuse them.
constexpr std::uint32_t kMaxIovecs = 1024;

// Fills `ranges` with the non-empty buffers of the array (ptr, count); EFAULT when the array or
// a buffer lies outside memory.
abi::Errno load_iovecs(const GuestView& memory, std::uint32_t ptr, std::uint32_t count,
                       std::vector<::iovec>& ranges);

} // namespace ofwatchdog::wasi
