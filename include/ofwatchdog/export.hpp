#pragma once
// OFWATCHDOG_API marks what libofwatchdog.so exports: the classes and functions declared in
// include/ofwatchdog/. The library is compiled with -fvisibility=hidden, so everything else in
// it stays internal and can change without breaking a program linked against it
// (docs/architecture.md, "The installed library"). The same attribute serves the library and
// its users: on ELF a default-visibility declaration needs no import marker.

#define OFWATCHDOG_API __attribute__((visibility("default")))
