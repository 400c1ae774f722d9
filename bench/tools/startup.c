/* Start-up time: exec the watchdog, then connect to PORT and ask GET /_/health until the answer
 * is 200; the time from exec to that answer is one sample. The watchdog is killed and reaped
 * after each sample. Its environment is ours (set port, mode, fprocess, TMPDIR before calling).
 *
 * usage: startup PORT RUNS BINARY [ARGS...]
 * prints: runs=N p50_ms=A min_ms=B max_ms=C failures=F
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One health probe: 1 when the answer is 200, 0 otherwise (refused, reset, other status). */
static int probe(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ok = 0;
  if (connect(fd, (struct sockaddr*)&sa, sizeof sa) == 0) {
    static const char req[] = "GET /_/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1)) {
      struct pollfd p = {fd, POLLIN, 0};
      char buf[256];
      if (poll(&p, 1, 1000) == 1) {
        ssize_t r = read(fd, buf, sizeof buf - 1);
        ok = r >= 12 && memcmp(buf + 9, "200", 3) == 0;
      }
    }
  }
  close(fd);
  return ok;
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: startup PORT RUNS BINARY [ARGS...]\n");
    return 2;
  }
  int port = atoi(argv[1]), runs = atoi(argv[2]);
  double* ms = calloc((size_t)runs, sizeof(double));
  int n = 0, failures = 0;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  for (int i = 0; i < runs; i++) {
    pid_t pid;
    double t0 = now_s();
    if (posix_spawn(&pid, argv[3], &fa, NULL, argv + 3, environ) != 0) {
      perror("posix_spawn");
      return 1;
    }
    int up = 0;
    while (!up && now_s() - t0 < 5.0) {
      up = probe(port);
      if (!up) {
        /* 100 µs between attempts: the error bound, and little CPU taken from the
         * process that is starting on a machine with two cores. */
        struct timespec pause = {0, 100000};
        nanosleep(&pause, NULL);
      }
    }
    double t1 = now_s();
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    if (up)
      ms[n++] = (t1 - t0) * 1e3;
    else
      failures++;
  }
  qsort(ms, (size_t)n, sizeof(double), cmp_double);
  printf("runs=%d p50_ms=%.3f min_ms=%.3f max_ms=%.3f failures=%d\n", n, n ? ms[n / 2] : 0,
         n ? ms[0] : 0, n ? ms[n - 1] : 0, failures);
  return failures ? 1 : 0;
}
