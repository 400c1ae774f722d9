/* A function written in C against the C ABI of libofwatchdog (ofwatchdog.h). Its handler runs
 * on worker threads and may block; the watchdog around it reads the same environment variables
 * as of-watchdog. Build it outside this tree with:
 *
 *   cc -o function main.c $(pkg-config --cflags --libs ofwatchdog)
 *
 *   POST /upper   streams the body back in upper case, in constant memory
 *   GET  /slow    waits until the call is told to stop: exec_timeout gives a 504
 *   GET  /fail    returns an error: the client gets a 500
 *   anything else a greeting, read once at start-up from $GREETING_FILE when it is set */
#define _POSIX_C_SOURCE 200809L /* nanosleep, under -std=c99 too */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ofwatchdog/ofwatchdog.h>

static char greeting[256] = "Hello from a C function";

static int is_path(ofw_call* call, const char* want) {
  ofw_str path;
  return ofw_call_path(call, &path) == OFW_OK && path.size == strlen(want) &&
         memcmp(path.data, want, path.size) == 0;
}

static int upper(ofw_call* call) {
  static const ofw_header headers[] = {{{"Content-Type", 12}, {"text/plain", 10}}};
  char buffer[65536];
  long long got;
  ofw_call_send_head(call, 200, headers, 1, -1);
  while ((got = ofw_call_read(call, buffer, sizeof buffer)) > 0) {
    for (long long i = 0; i < got; i++)
      buffer[i] = (char)toupper((unsigned char)buffer[i]);
    if (ofw_call_write(call, buffer, (size_t)got) != OFW_OK)
      break; /* the client is gone or the deadline passed */
  }
  return OFW_OK;
}

static int slow(ofw_call* call) {
  const struct timespec tick = {0, 10 * 1000 * 1000};
  while (!ofw_call_stopped(call))
    nanosleep(&tick, NULL);
  ofw_call_log(call, "slow call stopped", 17);
  return OFW_OK;
}

static int handle(ofw_call* call, void* user_data) {
  (void)user_data;
  if (is_path(call, "/upper"))
    return upper(call);
  if (is_path(call, "/slow"))
    return slow(call);
  if (is_path(call, "/fail"))
    return OFW_EINVAL;
  char body[512];
  ofw_str method;
  ofw_call_method(call, &method);
  int size = snprintf(body, sizeof body, "%s: %.*s\n", greeting, (int)method.size, method.data);
  static const ofw_header headers[] = {{{"Content-Type", 12}, {"text/plain", 10}}};
  return ofw_call_respond(call, 200, headers, 1, body, (size_t)size);
}

/* Each worker thread, before its first call and after its last: where per-thread state (a
 * connection, a scratch buffer) would be made and freed. */
static void thread_started(void* user_data) {
  (void)user_data;
  fprintf(stderr, "function thread started\n");
}
static void thread_stopped(void* user_data) {
  (void)user_data;
  fprintf(stderr, "function thread stopped\n");
}

/* Once, before the port is bound: anything but OFW_OK stops start-up. */
static int setup(void* user_data) {
  (void)user_data;
  const char* file = getenv("GREETING_FILE");
  if (file == NULL)
    return OFW_OK;
  FILE* in = fopen(file, "r");
  if (in == NULL || fgets(greeting, sizeof greeting, in) == NULL) {
    fprintf(stderr, "cannot read GREETING_FILE %s\n", file);
    if (in != NULL)
      fclose(in);
    return OFW_ECONFIG;
  }
  fclose(in);
  greeting[strcspn(greeting, "\n")] = '\0';
  return OFW_OK;
}

int main(void) {
  if (ofw_abi_version() < OFW_ABI_VERSION) {
    fprintf(stderr, "libofwatchdog is older than this program\n");
    return 1;
  }
  ofw_server* server = NULL;
  if (ofw_server_new_from_environ(&server) != OFW_OK)
    return 1;
  ofw_server_set_handler(server, handle, NULL);
  ofw_server_set_setup(server, setup, NULL);
  ofw_server_set_thread_hooks(server, thread_started, thread_stopped, NULL);
  int status = ofw_server_run(server);
  ofw_server_free(server);
  return status;
}
