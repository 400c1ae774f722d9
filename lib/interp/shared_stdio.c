/* Hidden stand-ins for glibc's stdin, stdout and stderr, for the shared library only (see
 * meson.build): Debian's libwabt.a refers to the three variables in a way a shared object can
 * only satisfy with its own definitions, so these are those definitions. A constructor that
 * runs before any other of the library's copies the real streams into them; the streams
 * themselves stay glibc's, so output through either name lands in the same place. */
#define _GNU_SOURCE
#include <dlfcn.h>

#define HIDDEN __attribute__((visibility("hidden")))

HIDDEN void* stdin;
HIDDEN void* stdout;
HIDDEN void* stderr;

static void* real_stream(const char* name) {
  void** variable = (void**)dlsym(RTLD_DEFAULT, name);
  return variable != 0 ? *variable : 0;
}

__attribute__((constructor(101))) static void bind_standard_streams(void) {
  stdin = real_stream("stdin");
  stdout = real_stream("stdout");
  stderr = real_stream("stderr");
}
