// The function: a WASI command. The request body is its stdin, its stdout the response body;
// the request's method, path and headers are Http_* variables of its environment.
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  const char* method = getenv("Http_Method");
  const char* path = getenv("Http_Path");
  char name[4096];
  size_t got = fread(name, 1, sizeof name - 1, stdin);
  name[got] = '\0';
  printf("Hello, %s, from %s %s\n", got > 0 ? name : "world", method ? method : "?",
         path ? path : "/");
  return 0;
}
