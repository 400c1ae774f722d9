/* The C ABI of libofwatchdog: serve a function written in C, or in any language that can call
 * C, with the watchdog around it (HTTP server, /_/health, /_/ready, the lock file, metrics,
 * max_inflight, max_body_size, exec_timeout, the drain).
 *
 * C99. Opaque handles; strings are pointer + length views (`ofw_str`) that are not
 * NUL-terminated; every call returns an integer: OFW_OK (0) or more on success, a negative
 * OFW_E* code on a bad call, which never changes what the client gets. The symbols carry their
 * own version (OFWATCHDOG_C_1) so that changes of the C++ API never break a program built
 * against this header. docs/functions.md is the tutorial.
 *
 *   #include <ofwatchdog/ofwatchdog.h>
 *
 *   static int handle(ofw_call *call, void *user_data) {
 *     char buf[65536];
 *     ofw_call_send_head(call, 200, NULL, 0, -1);
 *     for (;;) {
 *       long long n = ofw_call_read(call, buf, sizeof buf);
 *       if (n <= 0) return n < 0 ? n : OFW_OK;       // 0: the body ended
 *       if (ofw_call_write(call, buf, (size_t)n) < 0) return OFW_OK;
 *     }
 *   }
 *
 *   int main(void) {
 *     ofw_server *server = NULL;
 *     if (ofw_server_new_from_environ(&server) != OFW_OK) return 1;
 *     ofw_server_set_handler(server, handle, NULL);
 *     int status = ofw_server_run(server);               // until SIGTERM and the drain
 *     ofw_server_free(server);
 *     return status;
 *   }
 *
 * Threads: the handler runs on worker threads, `threads` of them at once (ofw_server_set_threads,
 * or the variable inproc_threads), and may block; calls on an `ofw_call` are for the thread
 * running its handler only, and the handle is invalid once the handler returns. */
#ifndef OFWATCHDOG_OFWATCHDOG_H
#define OFWATCHDOG_OFWATCHDOG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define OFW_API __attribute__((visibility("default")))
#else
#define OFW_API
#endif

/* The version of this ABI; ofw_abi_version() returns the one the library implements. A program
 * may check that it is at least the one it was built with. */
#define OFW_ABI_VERSION 1

/* Results. */
#define OFW_OK 0
#define OFW_EINVAL (-1)     /* a NULL handle or pointer, or an argument out of range */
#define OFW_ESTATE (-2)     /* not now: a head after the head, a write past Content-Length, ... */
#define OFW_ECANCELLED (-3) /* the call should stop: timeout, client gone, shutdown, 413 */
#define OFW_ECONFIG (-4)    /* the configuration is not valid (the log says which variable) */
#define OFW_ENOTFOUND (-5)  /* no such header */
#define OFW_ENOMEM (-6)     /* out of memory */

typedef struct ofw_server ofw_server;
typedef struct ofw_call ofw_call;

typedef struct ofw_str {
  const char* data;
  size_t size;
} ofw_str;

typedef struct ofw_header {
  ofw_str name;
  ofw_str value;
} ofw_header;

/* The function. Returns OFW_OK to finish the response (a 200 with no headers when nothing was
 * sent), anything else to fail it: a 500 with a fixed text when no head was sent, else the
 * response is cut short. */
typedef int (*ofw_handler)(ofw_call* call, void* user_data);
/* Run on each worker thread before its first call and after its last. */
typedef void (*ofw_thread_hook)(void* user_data);
/* Run once before the port is bound; anything but OFW_OK stops start-up with exit status 1. */
typedef int (*ofw_setup)(void* user_data);

OFW_API int ofw_abi_version(void);
/* The library's version text, e.g. "0.9.0". */
OFW_API const char* ofw_version(void);
/* The text of a result code, e.g. "invalid argument". */
OFW_API const char* ofw_result_text(int result);

/* --- the server ------------------------------------------------------------------------ */
/* A server configured from `environment` ("NAME=value" entries, `count` of them; mode defaults
 * to inproc), or from the process's environment. On a bad value, OFW_ECONFIG and the message
 * naming the variable on stderr; *out is then NULL. */
OFW_API int ofw_server_new(const ofw_str* environment, size_t count, ofw_server** out);
OFW_API int ofw_server_new_from_environ(ofw_server** out);
OFW_API int ofw_server_set_handler(ofw_server* server, ofw_handler handler, void* user_data);
OFW_API int ofw_server_set_setup(ofw_server* server, ofw_setup setup, void* user_data);
OFW_API int ofw_server_set_thread_hooks(ofw_server* server, ofw_thread_hook on_start,
                                        ofw_thread_hook on_stop, void* user_data);
/* Worker threads (1 to 4096) and requests that may wait for one (0 to 1048576); 0 threads
 * keeps the default, and a negative queue too. */
OFW_API int ofw_server_set_threads(ofw_server* server, unsigned threads, long long queue);
/* Binds, serves, and returns the process exit status after SIGTERM's drain or ofw_server_stop
 * (0), or when start-up failed (non-zero). Once per server. */
OFW_API int ofw_server_run(ofw_server* server);
/* Starts the graceful shutdown, as SIGTERM does. Any thread, any time while the server exists. */
OFW_API int ofw_server_stop(ofw_server* server);
OFW_API void ofw_server_free(ofw_server* server);

/* --- the request, on the handler's thread -------------------------------------------- */
OFW_API int ofw_call_method(const ofw_call* call, ofw_str* out);
OFW_API int ofw_call_path(const ofw_call* call, ofw_str* out);  /* percent-decoded */
OFW_API int ofw_call_query(const ofw_call* call, ofw_str* out); /* after '?', encoded */
OFW_API int ofw_call_target(const ofw_call* call, ofw_str* out);
OFW_API int ofw_call_call_id(const ofw_call* call, ofw_str* out); /* X-Call-Id, or empty */
/* The first header named `name` (any case): OFW_OK, or OFW_ENOTFOUND. */
OFW_API int ofw_call_header(const ofw_call* call, const char* name, size_t name_size, ofw_str* out);
/* The number of request headers (>= 0), and the one at `index`. */
OFW_API int ofw_call_header_count(const ofw_call* call);
OFW_API int ofw_call_header_at(const ofw_call* call, size_t index, ofw_header* out);
/* Body bytes into `buffer`, blocking until some arrive: the count (> 0), 0 at the end of the
 * body, OFW_ECANCELLED when the call should stop (a body over max_body_size included). */
OFW_API long long ofw_call_read(ofw_call* call, void* buffer, size_t capacity);
/* Milliseconds left before exec_timeout ends the call (>= 0), or -1 when none applies. */
OFW_API long long ofw_call_time_left_ms(const ofw_call* call);
/* 1 when the call should stop (timeout, client gone, shutdown), else 0. */
OFW_API int ofw_call_stopped(const ofw_call* call);

/* --- the response, on the handler's thread -------------------------------------------- */
/* The status (200-599) and headers; content_length < 0: streamed (chunked). OFW_EINVAL for a
 * bad status or header (a name that is not a token, CR, LF or NUL in a value, a header the
 * watchdog sets: Content-Length, Transfer-Encoding, Connection), OFW_ESTATE after a head or a
 * write; nothing is sent then. */
OFW_API int ofw_call_send_head(ofw_call* call, int status, const ofw_header* headers, size_t count,
                               long long content_length);
/* Body bytes, blocking while the client is behind (a 200 head goes first if none was sent):
 * OFW_OK, OFW_ECANCELLED when the call should stop, OFW_ESTATE past the Content-Length. */
OFW_API int ofw_call_write(ofw_call* call, const void* data, size_t size);
/* The whole answer at once: the head with its Content-Length, then the body. */
OFW_API int ofw_call_respond(ofw_call* call, int status, const ofw_header* headers, size_t count,
                             const void* body, size_t size);
/* Gives up: 500 with a fixed text if nothing was sent, else the response is cut short;
 * `why` goes to the log. */
OFW_API int ofw_call_fail(ofw_call* call, const char* why, size_t why_size);
/* A line in the watchdog's log. */
OFW_API int ofw_call_log(ofw_call* call, const char* line, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* OFWATCHDOG_OFWATCHDOG_H */
