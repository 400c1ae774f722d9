/* The start-up floor: the least a server can do to answer its first GET /_/health, on the
 * port in $port (127.0.0.1), then every request after it the same way until it is killed.
 * Built twice by bench/run: alone, and linked with the shared libraries the dynamic watchdog
 * loads (libstdc++, libfmt, prometheus-cpp-core, libm), so the start-up row shows what loading
 * them costs before any of the watchdog's own code runs.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
  const char* port = getenv("port");
  if (port == NULL) {
    fprintf(stderr, "health: set port\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port))};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr*)&sa, sizeof sa) != 0 || listen(fd, 64) != 0) {
    perror("health: listen");
    return 1;
  }
  static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK";
  for (;;) {
    int client = accept(fd, NULL, NULL);
    if (client < 0)
      continue;
    char request[1024];
    if (read(client, request, sizeof request) > 0 &&
        write(client, answer, sizeof answer - 1) != (ssize_t)(sizeof answer - 1))
      perror("health: write");
    close(client);
  }
}
