#!/bin/sh
# Installs the build into a temporary directory and builds a small embedder against it as a
# project outside this tree would: headers, compiler and linker flags from pkg-config alone.
# Then runs it: it loads a configuration, compares the header and library versions, and runs a
# Watchdog on free ports through a graceful shutdown. Then the same for a C function on the C
# ABI (examples/function_c), which serves requests.
#   tests/install/installed_library.sh BUILD_DIR SOURCE_DIR CXX CC [FLAG...]
set -eu
build=$(cd "$1" && pwd)
source=$(cd "$2" && pwd)
cxx=$3
cc=$4
shift 4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "$*" >&2
  exit 1
}

destdir=$work/destdir
meson install -C "$build" --destdir "$destdir" --no-rebuild --quiet >"$work/install.log" 2>&1 ||
  fail "meson install failed: $(cat "$work/install.log")"
pc=$(find "$destdir" -name ofwatchdog.pc)
[ -n "$pc" ] || fail "no ofwatchdog.pc under $destdir"
# What a package holds besides the library: the binary under both names, the man page under
# both names, and the headers.
for want in bin/of-watchdog bin/fwatchdog share/man/man1/fwatchdog.1 share/man/man1/of-watchdog.1 \
  include/ofwatchdog/watchdog.hpp include/ofwatchdog/ofwatchdog.h include/ofwatchdog/function.hpp; do
  [ -n "$(find "$destdir" -path "*/$want")" ] || fail "meson install did not install $want"
done
man_page=$(find "$destdir" -path "*/share/man/man1/fwatchdog.1")
grep -q "^\.SH ENVIRONMENT" "$man_page" || fail "the man page has no ENVIRONMENT section"
# The .pc file names the install prefix; the sysroot prepends the destdir to its -I and -L.
export PKG_CONFIG_PATH="$(dirname "$pc")"
export PKG_CONFIG_SYSROOT_DIR="$destdir"
flags=$(pkg-config --cflags --libs ofwatchdog) || fail "pkg-config cannot resolve ofwatchdog"
case "$flags" in
*"$source"* | *"$build"*) fail "the pkg-config flags point into the tree: $flags" ;;
esac

mkdir "$work/embedder"
cat >"$work/embedder/main.cpp" <<'CPP'
#include <cstdio>
#include <memory>
#include <string>

#include <ofwatchdog/config.hpp>
#include <ofwatchdog/handler_mode.hpp>
#include <ofwatchdog/version.hpp>
#include <ofwatchdog/watchdog.hpp>

int main() {
  ofwatchdog::ConfigResult loaded =
      ofwatchdog::load_config({"mode=serializing", "fprocess=cat", "port=0", "metrics_port=0",
                               "healthcheck_interval=0s", "suppress_lock=true"});
  if (!loaded.ok()) {
    std::printf("config error: %s\n", loaded.error().message.c_str());
    return 1;
  }
  std::printf("mode: %s\n", loaded.config().mode.c_str());
  std::printf("headers: %s, library: %s\n", OFWATCHDOG_VERSION, ofwatchdog::version());
  ofwatchdog::Watchdog watchdog(loaded.config(),
                                ofwatchdog::make_handler_mode([](auto exchange) {
                                  exchange->send_head({});
                                  exchange->finish();
                                }));
  // Asked before run(), the graceful shutdown begins as soon as the watchdog is serving.
  watchdog.stop();
  std::printf("run: %d\n", watchdog.run());
}
CPP
# shellcheck disable=SC2086
(cd "$work/embedder" && "$cxx" -std=c++20 "$@" -o embedder main.cpp $flags) ||
  fail "the embedder does not build against the installed library"

libdir=$(dirname "$(dirname "$pc")")
loaded_from=$(LD_LIBRARY_PATH="$libdir" ldd "$work/embedder/embedder" | grep 'libofwatchdog')
case "$loaded_from" in
*"libofwatchdog.so.0 => $libdir/libofwatchdog.so.0 "*) ;;
*) fail "the embedder does not load the installed libofwatchdog.so.0: $loaded_from" ;;
esac
output=$(LD_LIBRARY_PATH="$libdir" "$work/embedder/embedder" 2>"$work/stderr") ||
  fail "the embedder failed: $output $(cat "$work/stderr")"
version_header=$build/include/ofwatchdog/version.hpp
version=$(sed -n 's/^#define OFWATCHDOG_VERSION "\(.*\)"$/\1/p' "$version_header")
expected="mode: serializing
headers: $version, library: $version
run: 0"
[ "$output" = "$expected" ] || fail "the embedder printed:
$output
expected:
$expected"
grep -q 'Listening on port' "$work/stderr" || fail "no start-up lines: $(cat "$work/stderr")"
echo "built and ran an embedder against $libdir"

# A C function, built with the C compiler and nothing but pkg-config's flags; its symbols bind
# to the C ABI's own version.
mkdir "$work/c-function"
# shellcheck disable=SC2086
(cd "$work/c-function" && "$cc" -std=c99 -Wall -Wextra -Werror "$@" -o function \
  "$source/examples/function_c/main.c" $flags) ||
  fail "the C function does not build against the installed library"
versions=$(objdump -T "$work/c-function/function" | grep -c 'OFWATCHDOG_C_1.* ofw_') ||
  fail "the C function binds no symbol of version OFWATCHDOG_C_1"
objdump -T "$work/c-function/function" | grep ' ofw_' | grep -v OFWATCHDOG_C_1 &&
  fail "the C function binds an ofw_ symbol outside OFWATCHDOG_C_1"
/usr/bin/python3 "$source/tests/install/serve_c_function.py" "$work/c-function/function" "$libdir" ||
  fail "the C function did not serve"
echo "built and served a C function ($versions symbols of OFWATCHDOG_C_1)"
