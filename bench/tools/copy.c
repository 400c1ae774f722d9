/* Copies stdin to stdout in 64 KiB reads: the cheapest possible function for the fork modes.
 * Built twice: as `copy`, and with -DCOPY_CGI as `copy-cgi`, which first prints the CGI header
 * block that mod_cgi requires before the body (the CGI contract; the watchdog needs none). */
#include <errno.h>
#include <unistd.h>

static int write_all(const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(1, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int main(void) {
  static char buf[65536];
#ifdef COPY_CGI
  static const char head[] = "Content-Type: text/plain\r\n\r\n";
  if (write_all(head, sizeof head - 1) != 0)
    return 1;
#endif
  for (;;) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r == 0)
      return 0;
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return 1;
    }
    if (write_all(buf, (size_t)r) != 0)
      return 1;
  }
}
