#pragma once
// Host errno values as the guest's WASI errno.

#include "wasi/abi.hpp"

namespace ofwatchdog::wasi {

// `error` is a Linux errno (positive). Values with no WASI counterpart become EIO.
abi::Errno to_wasi_errno(int error);

} // namespace ofwatchdog::wasi
