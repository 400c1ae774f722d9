// The host's life (construction, the end of the request) and the dispatch of each call by its
// index in wasi_functions.def. The functions themselves live in host_*.cpp, by subject.
#include "wasi/host.hpp"

#include <thread>

namespace ofwatchdog::wasi {

Host::Host(HostSetup setup, Stdio& stdio, Sandbox& sandbox)
    : setup_(std::move(setup)), stdio_(stdio), sandbox_(sandbox) {}

Host::~Host() {
  descriptors_.clear();
  // Anything the guest created goes with it; a failure here is the sandbox's to report at its
  // next reset (Sandbox::reset runs again before the slot's next request).
  sandbox_.reset();
}

bool implements(Function function) {
  switch (function) {
  // The functions Host::call answers with ENOSYS: keep in step with its default case (the unit
  // tests call every function of the list and compare).
  case Function::fd_advise:
  case Function::fd_allocate:
  case Function::fd_fdstat_set_rights:
  case Function::fd_filestat_set_times:
  case Function::path_filestat_set_times:
  case Function::path_link:
  case Function::path_readlink:
  case Function::path_symlink:
  case Function::proc_raise:
  case Function::sock_accept:
  case Function::sock_recv:
  case Function::sock_send:
  case Function::sock_shutdown:
  case Function::count_:
    return false;
  default:
    return true;
  }
}

HostResult Host::call(Function function, const std::uint64_t* args, GuestMemory memory) {
  GuestView view(memory);
  // i32 parameters arrive widened; only their low 32 bits are the guest's value.
  auto u32 = [args](int i) { return static_cast<std::uint32_t>(args[i]); };
  auto u64 = [args](int i) { return args[i]; };
  switch (function) {
  case Function::args_get:
    return done(strings_get(setup_.args, view, u32(0), u32(1)));
  case Function::args_sizes_get:
    return done(strings_sizes_get(setup_.args, view, u32(0), u32(1)));
  case Function::environ_get:
    return done(strings_get(setup_.environ, view, u32(0), u32(1)));
  case Function::environ_sizes_get:
    return done(strings_sizes_get(setup_.environ, view, u32(0), u32(1)));
  case Function::clock_res_get:
    return done(clock_get(view, u32(0), u32(1), true));
  case Function::clock_time_get: // (id, precision, result): the precision is a hint we ignore
    return done(clock_get(view, u32(0), u32(2), false));
  case Function::fd_close:
    return done(fd_close(u32(0)));
  case Function::fd_datasync:
  case Function::fd_sync:
    return done(fd_sync(u32(0)));
  case Function::fd_fdstat_get:
    return done(fd_fdstat_get(view, u32(0), u32(1)));
  case Function::fd_fdstat_set_flags:
    return done(fd_fdstat_set_flags(u32(0), u32(1)));
  case Function::fd_filestat_get:
    return done(fd_filestat_get(view, u32(0), u32(1)));
  case Function::fd_filestat_set_size:
    return done(fd_filestat_set_size(u32(0), u64(1)));
  case Function::fd_pread:
    return done(fd_positioned(view, u32(0), u32(1), u32(2), u64(3), u32(4), false));
  case Function::fd_prestat_get:
    return done(fd_prestat_get(view, u32(0), u32(1)));
  case Function::fd_prestat_dir_name:
    return done(fd_prestat_dir_name(view, u32(0), u32(1), u32(2)));
  case Function::fd_pwrite:
    return done(fd_positioned(view, u32(0), u32(1), u32(2), u64(3), u32(4), true));
  case Function::fd_read:
    return fd_read(view, u32(0), u32(1), u32(2), u32(3));
  case Function::fd_readdir:
    return done(fd_readdir(view, u32(0), u32(1), u32(2), u64(3), u32(4)));
  case Function::fd_renumber:
    return done(fd_renumber(u32(0), u32(1)));
  case Function::fd_seek:
    return done(fd_seek(view, u32(0), u64(1), u32(2), u32(3)));
  case Function::fd_tell:
    return done(fd_tell(view, u32(0), u32(1)));
  case Function::fd_write:
    return fd_write(view, u32(0), u32(1), u32(2), u32(3));
  case Function::path_create_directory:
    return done(path_create_directory(view, u32(0), u32(1), u32(2)));
  case Function::path_filestat_get:
    return done(path_filestat_get(view, u32(0), u32(1), u32(2), u32(3), u32(4)));
  case Function::path_open:
    return done(
        path_open(view, u32(0), u32(1), u32(2), u32(3), u32(4), u64(5), u64(6), u32(7), u32(8)));
  case Function::path_remove_directory:
    return done(path_remove(view, u32(0), u32(1), u32(2), true));
  case Function::path_rename:
    return done(path_rename(view, u32(0), u32(1), u32(2), u32(3), u32(4), u32(5)));
  case Function::path_unlink_file:
    return done(path_remove(view, u32(0), u32(1), u32(2), false));
  case Function::poll_oneoff:
    return poll_oneoff(view, u32(0), u32(1), u32(2), u32(3));
  case Function::proc_exit:
    return {HostResult::Kind::exited, u32(0)};
  case Function::sched_yield:
    std::this_thread::yield();
    return done(Errno::success);
  case Function::random_get:
    return done(random_get(view, u32(0), u32(1)));
  default:
    // fd_advise, fd_allocate, the set_rights/set_times family, links, symlinks, proc_raise and
    // sockets: a module may import them, and learns at the call that they are not there.
    return done(Errno::nosys);
  }
}

} // namespace ofwatchdog::wasi
