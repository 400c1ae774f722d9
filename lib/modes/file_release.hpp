#pragma once
// Gives an in-memory file's pages back to the system on libuv's thread pool instead of the loop.
//
// Freeing the pages of a memfd costs the kernel about as much as filling them (each page leaves
// the page cache, the LRU and the memory cgroup one by one): for a 100 MiB serializing request,
// punching the consumed body out of its file and closing the output's took about a sixth of the
// loop's time, while the function or the client kept the other CPU only partly busy. Done on a
// pool thread, that work runs beside the loop's.
//
// Each job owns its descriptor: a punch works on a duplicate (so a close queued after it cannot
// pull the descriptor from under it, nor a reused number point it at another file), and a close
// takes the caller's. When no job can be queued (no descriptor left for the duplicate, a loop
// that is closing), the work is done at once, as before.

#include <cstdint>

#include <uv.h>

namespace ofwatchdog::modes {

// Punches [from, to) out of the file `fd` refers to; `fd` stays the caller's.
void punch_later(uv_loop_t* loop, int fd, std::uint64_t from, std::uint64_t to);
// Closes `fd`, which is no longer the caller's from this call on.
void close_later(uv_loop_t* loop, int fd);

} // namespace ofwatchdog::modes
