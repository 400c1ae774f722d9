/* The C ABI row of bench/run's function rows: the whole-body echo of echo.cpp, written in C,
 * for bodies up to 64 KiB (the rows send 1 KiB). */
#include <stdlib.h>
#include <string.h>

#include <ofwatchdog/ofwatchdog.h>

static int echo(ofw_call* call, void* user_data) {
  (void)user_data;
  static const ofw_header headers[] = {{{"Content-Type", 12}, {"application/octet-stream", 24}}};
  char buffer[65536];
  size_t size = 0;
  long long got;
  while (size < sizeof buffer &&
         (got = ofw_call_read(call, buffer + size, sizeof buffer - size)) > 0)
    size += (size_t)got;
  return ofw_call_respond(call, 200, headers, 1, buffer, size);
}

int main(void) {
  ofw_server* server = NULL;
  if (ofw_server_new_from_environ(&server) != OFW_OK)
    return 1;
  ofw_server_set_handler(server, echo, NULL);
  int status = ofw_server_run(server);
  ofw_server_free(server);
  return status;
}
