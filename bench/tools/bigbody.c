/* Pushes one large body through a server or through a plain pipe, reading the output at the
 * same time (a streaming server echoes while the body is still being sent, so writing first and
 * reading afterwards would deadlock).
 *
 * usage: bigbody http PORT PATH BYTES      POST to 127.0.0.1:PORT with Content-Length
 *        bigbody pipe BYTES PROGRAM [ARGS]  the same bytes through PROGRAM's stdin/stdout
 * prints: sent=N received=M seconds=S mbps=R status=C
 * `received` counts body bytes after the response head (chunk framing included when the
 * response is chunked, a few bytes per chunk); mbps is sent MiB divided by the whole time.
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

/* Writes `head` then `total` pattern bytes to wfd while reading rfd to end of file. When
 * `http` is set, the response head is skipped and its status code returned in *status. */
static int pump(int wfd, int rfd, const char* head, unsigned long long total, int http,
                unsigned long long* received, int* status) {
  static char pattern[65536], buf[262144];
  for (size_t i = 0; i < sizeof pattern; i++)
    pattern[i] = (char)('a' + i % 26);
  size_t head_len = strlen(head), head_off = 0;
  unsigned long long sent = 0;
  int in_head = http;
  char resp_head[8192];
  size_t resp_head_len = 0;
  *received = 0;
  *status = 0;
  fcntl(wfd, F_SETFL, fcntl(wfd, F_GETFL) | O_NONBLOCK);
  int writing = 1;
  for (;;) {
    struct pollfd p[2] = {{rfd, POLLIN, 0}, {writing ? wfd : -1, POLLOUT, 0}};
    if (poll(p, 2, 60000) <= 0)
      return -1; /* Nothing moved for a minute: give up rather than hang. */
    if (writing && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w;
      if (head_off < head_len)
        w = write(wfd, head + head_off, head_len - head_off);
      else {
        unsigned long long left = total - sent;
        w = write(wfd, pattern, left < sizeof pattern ? (size_t)left : sizeof pattern);
      }
      if (w < 0 && errno != EAGAIN && errno != EINTR)
        return -1;
      if (w > 0) {
        if (head_off < head_len)
          head_off += (size_t)w;
        else
          sent += (unsigned long long)w;
      }
      if (head_off == head_len && sent == total) {
        writing = 0;
        if (wfd != rfd)
          close(wfd);
      }
    }
    if (p[0].revents & (POLLIN | POLLERR | POLLHUP)) {
      ssize_t r = read(rfd, buf, sizeof buf);
      if (r < 0 && (errno == EAGAIN || errno == EINTR))
        continue;
      if (r <= 0)
        break;
      size_t off = 0;
      if (in_head) {
        size_t take = (size_t)r;
        if (take > sizeof resp_head - resp_head_len)
          take = sizeof resp_head - resp_head_len;
        memcpy(resp_head + resp_head_len, buf, take);
        resp_head_len += take;
        char* end = memmem(resp_head, resp_head_len, "\r\n\r\n", 4);
        if (!end) {
          if (resp_head_len == sizeof resp_head)
            return -1;
          continue;
        }
        *status = atoi(resp_head + 9);
        size_t head_bytes = (size_t)(end + 4 - resp_head);
        off = head_bytes - (resp_head_len - take);
        in_head = 0;
      }
      *received += (unsigned long long)r - off;
    }
  }
  return writing ? -1 : 0;
}

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc >= 5 && strcmp(argv[1], "http") == 0) {
    int port = atoi(argv[2]);
    unsigned long long total = strtoull(argv[4], NULL, 10);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr*)&sa, sizeof sa) != 0) {
      perror("connect");
      return 1;
    }
    char head[512];
    snprintf(head, sizeof head,
             "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %llu\r\n"
             "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
             argv[3], total);
    double t0 = now_s();
    unsigned long long received;
    int status;
    int rc = pump(fd, fd, head, total, 1, &received, &status);
    double el = now_s() - t0;
    close(fd);
    printf("sent=%llu received=%llu seconds=%.3f mbps=%.1f status=%d\n", total, received, el,
           (double)total / 1048576.0 / el, status);
    return rc == 0 ? 0 : 1;
  }
  if (argc >= 4 && strcmp(argv[1], "pipe") == 0) {
    unsigned long long total = strtoull(argv[2], NULL, 10);
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
      return 1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    pid_t pid;
    double t0 = now_s();
    if (posix_spawn(&pid, argv[3], &fa, NULL, argv + 3, environ) != 0)
      return 1;
    close(in[0]);
    close(out[1]);
    unsigned long long received;
    int status;
    int rc = pump(in[1], out[0], "", total, 0, &received, &status);
    int ws;
    waitpid(pid, &ws, 0);
    double el = now_s() - t0;
    printf("sent=%llu received=%llu seconds=%.3f mbps=%.1f status=0\n", total, received, el,
           (double)total / 1048576.0 / el);
    return rc == 0 ? 0 : 1;
  }
  fprintf(stderr, "usage: bigbody http PORT PATH BYTES | bigbody pipe BYTES PROGRAM [ARGS]\n");
  return 2;
}
