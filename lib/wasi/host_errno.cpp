#include "wasi/host_errno.hpp"

#include <cerrno>

namespace ofwatchdog::wasi {

abi::Errno to_wasi_errno(int error) {
  using abi::Errno;
  switch (error) {
  case 0:
    return Errno::success;
  case E2BIG:
    return Errno::toobig;
  case EACCES:
    return Errno::acces;
  case EAGAIN:
    return Errno::again;
  case EBADF:
    return Errno::badf;
  case EBUSY:
    return Errno::busy;
  case EEXIST:
    return Errno::exist;
  case EFAULT:
    return Errno::fault;
  case EFBIG:
    return Errno::fbig;
  case EILSEQ:
    return Errno::ilseq;
  case EINTR:
    return Errno::intr;
  case EINVAL:
    return Errno::inval;
  case EISDIR:
    return Errno::isdir;
  case ELOOP:
    return Errno::loop;
  case EMFILE:
    return Errno::mfile;
  case EMLINK:
    return Errno::mlink;
  case ENAMETOOLONG:
    return Errno::nametoolong;
  case ENFILE:
    return Errno::nfile;
  case ENODEV:
    return Errno::nodev;
  case ENOENT:
    return Errno::noent;
  case ENOMEM:
    return Errno::nomem;
  case ENOSPC:
  case EDQUOT:
    return Errno::nospc;
  case ENOSYS:
    return Errno::nosys;
  case ENOTDIR:
    return Errno::notdir;
  case ENOTEMPTY:
    return Errno::notempty;
  case EOPNOTSUPP:
    return Errno::notsup;
  case ENXIO:
    return Errno::nxio;
  case EOVERFLOW:
    return Errno::overflow;
  case EPERM:
    return Errno::perm;
  case EPIPE:
    return Errno::pipe;
  case EROFS:
    return Errno::rofs;
  case ESPIPE:
    return Errno::spipe;
  case ETXTBSY:
    return Errno::txtbsy;
  case EXDEV:
    return Errno::xdev;
  default:
    return Errno::io;
  }
}

} // namespace ofwatchdog::wasi
