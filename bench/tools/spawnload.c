/* The spawn-only limit of the fork modes: WORKERS threads each repeatedly start PROGRAM with
 * pipes (posix_spawn), write BODY bytes to its stdin, read its whole stdout and reap it, for
 * SECONDS seconds. No HTTP is involved, so this is what a perfect watchdog could reach.
 *
 * usage: spawnload WORKERS SECONDS BODY PROGRAM [ARGS...]
 * prints: requests=N seconds=S rps=R p50_us=A p99_us=B errors=E
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static char** program_argv;
static size_t body_size;
static double deadline;

struct Worker {
  pthread_t thread;
  double* latencies_us;
  size_t count, capacity;
  long errors;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One spawn, write, read-all, wait. Returns 0 on success. The pipes are close-on-exec so that
 * a child spawned by another thread never inherits them (it would hold our stdin open). */
static int one_round(const char* body) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0)
    return -1;
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return -1;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  pid_t pid;
  int rc = posix_spawn(&pid, program_argv[0], &fa, NULL, program_argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    return -1;
  }
  size_t off = 0;
  int failed = 0;
  while (off < body_size) {
    ssize_t w = write(in[1], body + off, body_size - off);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      failed = 1;
      break;
    }
    off += (size_t)w;
  }
  close(in[1]);
  char buf[65536];
  size_t got = 0;
  for (;;) {
    ssize_t r = read(out[0], buf, sizeof buf);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  close(out[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (failed || got != body_size || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return -1;
  return 0;
}

static void* run_worker(void* arg) {
  struct Worker* w = arg;
  char* body = malloc(body_size ? body_size : 1);
  memset(body, 'x', body_size);
  while (now_s() < deadline) {
    double t0 = now_s();
    if (one_round(body) != 0) {
      w->errors++;
      continue;
    }
    double us = (now_s() - t0) * 1e6;
    if (w->count == w->capacity) {
      w->capacity = w->capacity ? w->capacity * 2 : 4096;
      w->latencies_us = realloc(w->latencies_us, w->capacity * sizeof(double));
    }
    w->latencies_us[w->count++] = us;
  }
  free(body);
  return NULL;
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: spawnload WORKERS SECONDS BODY PROGRAM [ARGS...]\n");
    return 2;
  }
  int workers = atoi(argv[1]);
  double seconds = atof(argv[2]);
  body_size = (size_t)atol(argv[3]);
  program_argv = argv + 4;
  struct Worker* ws = calloc((size_t)workers, sizeof *ws);
  double start = now_s();
  deadline = start + seconds;
  for (int i = 0; i < workers; i++)
    pthread_create(&ws[i].thread, NULL, run_worker, &ws[i]);
  size_t total = 0;
  long errors = 0;
  for (int i = 0; i < workers; i++) {
    pthread_join(ws[i].thread, NULL);
    total += ws[i].count;
    errors += ws[i].errors;
  }
  double elapsed = now_s() - start;
  double* all = malloc((total ? total : 1) * sizeof(double));
  size_t k = 0;
  for (int i = 0; i < workers; i++) {
    memcpy(all + k, ws[i].latencies_us, ws[i].count * sizeof(double));
    k += ws[i].count;
  }
  qsort(all, total, sizeof(double), cmp_double);
  double p50 = total ? all[total / 2] : 0, p99 = total ? all[(size_t)(total * 0.99)] : 0;
  printf("requests=%zu seconds=%.3f rps=%.1f p50_us=%.1f p99_us=%.1f errors=%ld\n", total, elapsed,
         (double)total / elapsed, p50, p99, errors);
  return 0;
}
