/* The limit of the wasm rows: a bench function's own main() called in a loop inside this
 * process, with no HTTP, no pipe and no instance. Built once per function with
 * -DFUNCTION_SOURCE='"echo.c"' (or sha256.c): the function's read(0) takes the body from memory
 * and its write(1) counts bytes, so what is timed is the function's work alone (stdio output,
 * as sha256's printf, goes to /dev/null and is flushed per call).
 *
 *   inprocess-echo PROCESSES SECONDS BODY_BYTES
 *
 * PROCESSES copies run side by side (processes, not threads: the functions keep their buffers
 * in static storage). Prints requests=, seconds=, rps=, p50_us=, p99_us=, errors= as spawnload
 * does. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const unsigned char* body;
static size_t body_size;
static size_t body_at;
static size_t written;

__attribute__((unused)) static ssize_t bench_read(int fd, void* into, size_t size) {
  (void)fd;
  size_t left = body_size - body_at;
  size_t n = size < left ? size : left;
  memcpy(into, body + body_at, n);
  body_at += n;
  return (ssize_t)n;
}

__attribute__((unused)) static ssize_t bench_write(int fd, const void* from, size_t size) {
  (void)fd;
  (void)from;
  written += size;
  return (ssize_t)size;
}

#define main function_main
#define read bench_read
#define write bench_write
#include FUNCTION_SOURCE
#undef main
#undef read
#undef write

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

enum { kMaxCalls = 1 << 22 };

/* One process: calls until the deadline; its latencies go into `out` (shared memory), its
 * count into `count`. */
static void run(double deadline, double* out, size_t* count, long* errors) {
  size_t n = 0;
  while (n < kMaxCalls) {
    double started = now_s();
    if (started >= deadline)
      break;
    body_at = 0;
    written = 0;
    if (function_main() != 0)
      ++*errors;
    fflush(stdout);
    out[n++] = (now_s() - started) * 1e6;
  }
  *count = n;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s PROCESSES SECONDS BODY_BYTES\n", argv[0]);
    return 2;
  }
  int processes = atoi(argv[1]);
  double seconds = atof(argv[2]);
  body_size = (size_t)atol(argv[3]);
  if (processes < 1 || processes > 64 || seconds <= 0) {
    fprintf(stderr, "%s: bad arguments\n", argv[0]);
    return 2;
  }
  unsigned char* bytes = malloc(body_size ? body_size : 1);
  memset(bytes, 'x', body_size);
  body = bytes;
  int null_fd = open("/dev/null", O_WRONLY);
  if (null_fd < 0 || dup2(null_fd, 1) < 0)
    return 1;

  size_t per = (size_t)kMaxCalls;
  size_t shared_bytes = (size_t)processes * (per * sizeof(double) + 2 * sizeof(size_t));
  unsigned char* shared =
      mmap(NULL, shared_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED)
    return 1;
  double* latencies = (double*)shared;
  size_t* counts = (size_t*)(shared + (size_t)processes * per * sizeof(double));
  long* errors = (long*)(counts + processes);

  double start = now_s();
  double deadline = start + seconds;
  for (int i = 0; i < processes; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      run(deadline, latencies + (size_t)i * per, &counts[i], &errors[i]);
      _exit(0);
    }
    if (pid < 0)
      return 1;
  }
  while (wait(NULL) > 0) {
  }
  double elapsed = now_s() - start;

  size_t total = 0;
  long failed = 0;
  for (int i = 0; i < processes; i++) {
    total += counts[i];
    failed += errors[i];
  }
  double* all = malloc((total ? total : 1) * sizeof(double));
  size_t k = 0;
  for (int i = 0; i < processes; i++) {
    memcpy(all + k, latencies + (size_t)i * per, counts[i] * sizeof(double));
    k += counts[i];
  }
  qsort(all, total, sizeof(double), cmp_double);
  double p50 = total ? all[total / 2] : 0, p99 = total ? all[(size_t)((double)total * 0.99)] : 0;
  /* The report goes to stderr's twin: stdout is /dev/null by now. */
  dprintf(2, "requests=%zu seconds=%.3f rps=%.1f p50_us=%.1f p99_us=%.1f errors=%ld\n", total,
          elapsed, (double)total / elapsed, p50, p99, failed);
  return 0;
}
