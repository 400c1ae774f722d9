#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/.

The requests are the raw bytes the integration tests send (tests/integration/test_http_protocol.py,
test_http_mode.py, test_streaming.py), plus hostile framings a fuzzer would take long to find on
its own. The WASI host's seeds are short guest programs in fuzz_wasi_host.cpp's input encoding. Run it after changing the seeds; it removes only the files it wrote before (named
seed-*), so crash reproducers added to a corpus stay. Files are named after their content, so a
rerun with the same seeds changes nothing.
"""

import base64
import hashlib
import json
import pathlib
import re
import struct
import sys

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"
# The integration tests' table of hostile framings (framing_cases.py) seeds the request path
# too, so every refused and accepted shape there is a starting point here.
sys.path.insert(0, str(CORPUS.parent.parent / "integration"))
import framing_cases  # noqa: E402


def get(path, version="HTTP/1.1", extra=""):
    return f"GET {path} {version}\r\nHost: t\r\n{extra}\r\n".encode()


def post(path, body, extra=""):
    return (f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
            .encode() + body)


def chunked(path, chunks, extra=""):
    return f"POST {path} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n{extra}\r\n".encode() + chunks


UPGRADE = "Connection: Upgrade\r\nUpgrade: echo\r\n"

# From the integration tests.
TEST_REQUESTS = [
    get("/"),
    get("/one") + post("/two", b"hello"),
    chunked("/c", b"5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\n\r\n"),
    post("/e?len=known", b"abcd", "Expect: 100-continue\r\n"),
    b"POST /e?noread=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nExpect: magic\r\n\r\nx",
    b"HEAD /h?big=1000 HTTP/1.1\r\nHost: t\r\n\r\n" + get("/after"),
    b"GET /old HTTP/1.0\r\n\r\n",
    b"GET /k?len=known HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" * 2,
    get("/bye", extra="Connection: close\r\n"),
    post("//p", b"abc") + get("/next"),
    b"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
    b"GET/ HTTP/1.1 extra\r\nHost: t\r\n\r\n",
    b"GET /a%zz HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n",
    chunked("/c", b"zz\r\n"),
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/2.0\r\nHost: t\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc",
    get("/", extra=UPGRADE) + b"tunnel bytes",
    get("/plain", extra=UPGRADE) + get("/second"),
    b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nraw",
    b"GET /a/../b?x=1 HTTP/1.1\r\nHost: t\r\n\r\n",
    b"HEAD /a/./b HTTP/1.1\r\nHost: t\r\n\r\n",
    b"PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc",
    b"DELETE /x HTTP/1.1\r\nHost: t\r\n\r\n",
    b"BREW /pot HTTP/1.1\r\nHost: t\r\n\r\n",
    post("/big", b"b" * 3000),
    b"GET /q?a=%20&b HTTP/1.1\r\nHost: t\r\n\r\n" + get("/r") + get("/s"),
]

# Framings a server must refuse or read exactly one way.
HOSTILE_REQUESTS = [
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nabc",
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity\r\n\r\nabc",
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunkedx\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: ,chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3\r\nabc\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3, 3\r\n\r\nabc",
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +3\r\n\r\nabc",
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 18446744073709551616\r\n\r\nabc",
    chunked("/", b"+5\r\nhello\r\n0\r\n\r\n"),
    chunked("/", b"0x5\r\nhello\r\n0\r\n\r\n"),
    chunked("/", b" 5\r\nhello\r\n0\r\n\r\n"),
    chunked("/", b"5 ;x\r\nhello\r\n0\r\n\r\n"),
    chunked("/", b"5;x=\"q\\\"\"\r\nhello\r\n0\r\n\r\n"),
    chunked("/", b"10000000000000000\r\nhello\r\n0\r\n\r\n"),
    chunked("/", b"ffffffffffffffff\r\nhello\r\n0\r\n\r\n"),
    chunked("/", b"5\nhello\n0\n\n"),
    chunked("/", b"5\r\nhelloXX0\r\n\r\n"),
    chunked("/", b"5\r\nhello0\r\n\r\n"),
    chunked("/", b"5;" + b"e" * 5000 + b"\r\nhello\r\n0\r\n\r\n"),
    chunked("/", b"5\r\nhello\r\n0\r\nTrailer: x\r\n\r\n") + get("/after"),
    chunked("/", b"5\r\nhello\r\n0\r\n\r\n", "Expect: 100-continue\r\n"),
    b"GET / HTTP/1.1\nHost: t\n\n",
    b"GET / HTTP/1.1\r\nHost: t\r\nX-Fold: a\r\n b\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: t\r\nX-Nul: a\x00b\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: t\r\nX-Cr: a\rb\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: t\r\n X-Lead: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost : t\r\n\r\n",
    b"GET  / HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: t\r\nConnection: keep-alive, Upgrade\r\nUpgrade: x\r\n\r\n",
    b"\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET http://t/abs HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n\r\n",
    b"GET /\x7f HTTP/1.1\r\nHost: t\r\n\r\n",
]

# Requests that are served normally, repeated with every behaviour of the fake mode (chosen by
# the last byte of the target, see fuzz_request_path.cpp).
BEHAVIOUR_REQUESTS = [
    get("/g"),
    post("/p", b"hello"),
    chunked("/c", b"5\r\nhello\r\n0\r\n\r\n"),
    post("/e", b"abcd", "Expect: 100-continue\r\n"),
    get("/u", extra=UPGRADE) + b"tunnel bytes",
    b"HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /o HTTP/1.0\r\n\r\n",
    get("/a") + post("/b", b"xy") + get("/c"),
]
BEHAVIOURS = 14


def with_behaviour(raw, behaviour):
    """The request with its first target's last byte chosen so that byte % 14 == behaviour."""
    line_end = raw.index(b" HTTP/1.")
    suffix = next(c for c in b"abcdefghijklmnopqrstuvwxyz0123456789" if c % BEHAVIOURS == behaviour)
    return raw[:line_end] + bytes([suffix]) + raw[line_end:]


def responses():
    """Upstream responses, each prefixed by the target's two control bytes: which of the
    responses answer HEAD requests (bit i; bit 7: a 64-byte head limit) and the split seed."""
    cl = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    ch = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n"
    plain = [
        cl,
        ch,
        cl + ch + cl,
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nclose-delimited body",
        b"HTTP/1.0 200 OK\r\n\r\nold",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + cl,
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\ntunnel",
        b"HTTP/1.1 204 No Content\r\n\r\n" + cl,
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n" + cl,
        b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 999 Odd\r\nContent-Length: 1\r\n\r\nx",
        b"HTTP/1.1 99 Low\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nx\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
        b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
        b"HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Nul: a\x00b\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nX-Long: " + b"v" * 200 + b"\r\nContent-Length: 0\r\n\r\n",
        b"garbage\r\n\r\n",
    ]
    out = []
    for i, body in enumerate(plain):
        out.append(bytes([0x00, i]) + body)
    # The same responses to HEAD requests, and with the tiny head limit.
    out.append(bytes([0x01, 7]) + cl + cl)
    out.append(bytes([0x03, 9]) + b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + cl)
    out.append(bytes([0x80, 3]) + b"HTTP/1.1 200 OK\r\nX-Long: " + b"v" * 100 + b"\r\n\r\n")
    return out


CONFIGS = [
    b"",
    b"fprocess=cat\n",
    b"mode=http\nupstream_url=http://127.0.0.1:3000\nport=8080\nmetrics_port=8081\n",
    b"mode=http\nhttp_upstream_url=http://[::1]:3000/path\nbuffer_http=true\n",
    b"mode=serializing\nfprocess=[\"sh\", \"-c\", \"echo \\u00e9\\ud83d\\ude00\"]\n",
    b"mode=static\nstatic_path=\n",
    b"mode=streaming\nfprocess=cat\nread_timeout=1m30s\nwrite_timeout=0\n",
    b"fprocess=cat\nexec_timeout=-5s\nhealthcheck_interval=1.5h\nread_timeout=.5s\n",
    b"fprocess=cat\nwrite_timeout=300ms\nread_timeout=5.5\nexec_timeout=9223372036854775807ns\n",
    b"fprocess=cat\nport=65536\n",
    b"fprocess=cat\nport=8080\nmetrics_port=8080\n",
    b"fprocess=cat\nmax_inflight=-1\nmax_body_size=18446744073709551616\n",
    b"fprocess=cat\nlog_buffer_size=abc\nlog_format=json\nprefix_logs=False\nlog_call_id=1\n",
    b"fprocess=cat\nsuppress_lock=True\nTMPDIR=\ncontent_type=text/plain\nready_path=/ready\n",
    b"mode=afterburn\n",
    b"mode=wasm\nwasm_root=/w\n",
    b"=value\nnoequals\nfprocess=cat\nfprocess=echo\n",
    b"function_process=\nfprocess=cat\n",
    b"fprocess=[\"a\", 1]\n",
    b"\x05-1m\n\x0090000\n",
    b"1h2m3.5s4ms5us6ns",
    b"1\xc2\xb5s",
]


# The WASI host (fuzz_wasi_host.cpp): a flags byte, the stdin bytes, then operations. Function
# numbers and parameter counts come from the list the host dispatches on.
WASI_DEF = CORPUS.parent.parent.parent / "lib" / "wasi" / "wasi_functions.def"
WASI_PARAMS = {
    m.group(1): len([p for p in m.group(2).split(",") if p.strip()])
    for m in re.finditer(r"^WASI_FUNCTION\((\w+), \w+((?:, \w+)*)\)", WASI_DEF.read_text(),
                         re.M)
}
WASI_INDEX = {name: i for i, name in enumerate(WASI_PARAMS)}
POKE_BYTES = len(WASI_PARAMS)
STDIN_OPEN, EARLY_WAKE, CANCEL_AT_3, BARE_PROCESS, EMPTY_MEMORY = 0x01, 0x02, 0x10, 0x20, 0xE0

RIGHTS_READ = (1 << 1) | (1 << 2) | (1 << 5) | (1 << 14) | (1 << 21) | (1 << 27)
RIGHTS_WRITE = RIGHTS_READ | (1 << 6) | (1 << 22)
ALL_RIGHTS = (1 << 64) - 1
CREAT, DIRECTORY, EXCL, TRUNC = 1, 2, 4, 8


def value(v):
    """The shortest encoding of `v` as next_value reads it: small, or raw 16, 32 or 64 bits."""
    if v < 32:
        return bytes([v])
    if v < 1 << 16:
        return bytes([0xA0]) + struct.pack("<H", v)
    if v < 1 << 32:
        return bytes([0xC0]) + struct.pack("<I", v)
    return bytes([0xE0]) + struct.pack("<Q", v)


class WasiProgram:
    """A guest's calls, with what they point at written above the target's memory image."""

    def __init__(self, flags=0, stdin=b""):
        self.out = bytes([flags, len(stdin)]) + stdin
        self.next = 0x8000

    def put(self, data):
        at = self.next
        self.next = (self.next + len(data) + 7) & ~7
        for i in range(0, len(data), 255):
            piece = data[i:i + 255]
            self.out += bytes([POKE_BYTES]) + struct.pack("<HB", at + i, len(piece)) + piece
        return at

    def room(self, size):
        return self.put(bytes(size))

    def iovecs(self, *ranges):
        return self.put(b"".join(struct.pack("<II", at, size) for at, size in ranges))

    def call(self, name, *args):
        assert len(args) == WASI_PARAMS[name], name
        self.out += bytes([WASI_INDEX[name]]) + b"".join(value(a) for a in args)
        return self

    def open(self, path, oflags=0, rights=RIGHTS_READ, dirfd=3, fdflags=0):
        at = self.put(path)
        return self.call("path_open", dirfd, 1, at, len(path), oflags, rights, ALL_RIGHTS, fdflags,
                         self.room(4))

    def write(self, fd, text):
        at = self.put(text)
        return self.call("fd_write", fd, self.iovecs((at, len(text))), 1, self.room(4))

    def read(self, fd, size):
        return self.call("fd_read", fd, self.iovecs((self.room(size), size)), 1, self.room(4))


def subscription(userdata, tag, body):
    return struct.pack("<QB7x", userdata, tag) + body.ljust(32, b"\0")


def clock(userdata, clock_id, timeout, flags=0):
    return subscription(userdata, 0, struct.pack("<I4xQQH6x", clock_id, timeout, 0, flags))


def on_fd(userdata, tag, fd):
    return subscription(userdata, tag, struct.pack("<I", fd))


def wasi_programs():
    programs = []

    p = WasiProgram()
    sizes = p.room(8)
    p.call("args_sizes_get", sizes, sizes + 4).call("args_get", p.room(32), p.room(64))
    p.call("environ_sizes_get", sizes, sizes + 4).call("environ_get", p.room(32), p.room(128))
    p.write(1, b"args and environ read\n").call("fd_close", 1).write(1, b"closed")
    programs.append(p)

    p = WasiProgram(BARE_PROCESS)
    sizes = p.room(8)
    p.call("args_sizes_get", sizes, sizes + 4).call("environ_get", 0xFFFFFFFF, 65536)
    programs.append(p)

    # A data file read and closed; writing it is refused.
    p = WasiProgram()
    p.open(b"hello.txt").read(4, 64).call("fd_close", 4)
    p.open(b"sub/inner.txt", rights=RIGHTS_WRITE).open(b"alias").read(4, 3).read(4, 64)
    programs.append(p)

    # A scratch file made, written, sought, read back and truncated.
    p = WasiProgram()
    p.open(b"out.txt", CREAT | TRUNC, RIGHTS_WRITE).write(4, b"scratch bytes")
    p.call("fd_seek", 4, 2, 0, p.room(8)).call("fd_pread", 4, p.iovecs((p.room(16), 16)), 1, 0,
                                                p.room(4))
    p.call("fd_filestat_get", 4, p.room(64)).call("fd_filestat_set_size", 4, 1 << 20)
    p.call("fd_pwrite", 4, p.iovecs((p.room(8), 8)), 1, 1 << 40, p.room(4)).call("fd_close", 4)
    programs.append(p)

    # Directories in scratch, a rename, and listings of the merged root and of a subdirectory.
    p = WasiProgram()
    d = p.put(b"d")
    p.call("path_create_directory", 3, d, 1).open(b"d/f", CREAT, RIGHTS_WRITE).write(4, b"f")
    old, new = p.put(b"d/f"), p.put(b"g")
    p.call("path_rename", 3, old, 3, 3, new, 1)
    buffer = p.room(1024)
    p.call("fd_readdir", 3, buffer, 1024, 0, p.room(4))
    p.call("fd_readdir", 3, buffer, 40, 1 << 63, p.room(4))
    p.open(b"sub", DIRECTORY).call("fd_readdir", 5, buffer, 1024, 0, p.room(4))
    p.call("path_unlink_file", 3, new, 1).call("path_remove_directory", 3, d, 1)
    programs.append(p)

    # Steps out of the sandbox and changes to the data layer.
    p = WasiProgram()
    for path in (b"escape", b"absolute", b"../outside/secret.txt", b"sub/../..", b"/hello.txt"):
        p.open(path)
        p.call("path_filestat_get", 3, 1, p.put(path), len(path), p.room(64))
    hello = p.put(b"hello.txt")
    p.call("path_unlink_file", 3, hello, 9).open(b"hello.txt", TRUNC).open(b"sub/x", CREAT)
    programs.append(p)

    # poll_oneoff: a clock already due, stdin with bytes, stdout; then stdin read dry.
    p = WasiProgram(EARLY_WAKE, b"body")
    subs = p.put(clock(1, 1, 1000) + on_fd(2, 1, 0) + on_fd(3, 2, 1))
    p.call("poll_oneoff", subs, p.room(96), 3, p.room(4)).read(0, 2).read(0, 8).read(0, 8)
    programs.append(p)

    # poll_oneoff on an open stdin that never gets more: the request's deadline ends it.
    p = WasiProgram(STDIN_OPEN | EARLY_WAKE * 3, b"x")
    subs = p.put(on_fd(7, 1, 0) + clock(8, 0, 1 << 62, 1))
    p.read(0, 4).call("poll_oneoff", subs, p.room(64), 2, p.room(4))
    programs.append(p)

    # A cancelled request: the third stream call is interrupted.
    p = WasiProgram(CANCEL_AT_3, b"in")
    p.write(1, b"a").write(2, b"b").read(0, 8)
    programs.append(p)

    # Descriptors themselves, the clocks, randomness, and the exit.
    p = WasiProgram()
    prestat = p.room(8)
    p.call("fd_prestat_get", 3, prestat).call("fd_prestat_dir_name", 3, p.room(4), 1)
    for fd in range(6):
        p.call("fd_fdstat_get", fd, p.room(24))
    p.open(b".", DIRECTORY).call("fd_renumber", 4, 3).call("fd_prestat_get", 3, prestat)
    p.call("fd_fdstat_set_flags", 0, 4).read(0, 4)
    p.call("clock_time_get", 0, 1, p.room(8)).call("clock_res_get", 3, p.room(8))
    p.call("random_get", p.room(64), 64).call("sched_yield").call("proc_exit", 3)
    p.call("fd_close", 0)
    programs.append(p)

    # Ranges on the edge of memory, and then a memory of no bytes at all.
    for flags in (0, EMPTY_MEMORY):
        p = WasiProgram(flags)
        end = 65536
        p.call("fd_write", 1, p.iovecs((end - 4, 4)), 1, end - 4)
        p.call("fd_write", 1, p.iovecs((end - 4, 5)), 1, end - 8)
        p.call("fd_write", 1, 0xFFFFFFF8, 1, 0).call("args_get", end - 3, end - 1)
        p.call("random_get", end - 16, 17).call("poll_oneoff", end - 48, 0, 1, end - 4)
        programs.append(p)
    return [p.out for p in programs]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def token(header, claims, signature=b"\x01" * 64):
    return b".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()),
                      b64url(signature)])


def jwt_inputs():
    """fuzz_jwt_token's seeds: `\0Bearer <token>` values of every shape the verifier refuses
    or reaches the claims check with, and `\1<document>` key sets."""
    claims = {"iss": "http://gateway.openfaas:8080", "aud": ["http://gateway.openfaas:8080"],
              "exp": 1800000060, "nbf": 1799999940,
              "function": {"permissions": ["openfaas-fn:*"], "audience": ["*:echo"]}}
    tokens = [
        token({"alg": "RS256", "kid": "rsa"}, claims, b"\x02" * 256),
        token({"alg": "PS512", "kid": "rsa", "typ": "JWT"}, claims, b"\x03" * 256),
        token({"alg": "ES256", "kid": "ec"}, claims),
        token({"alg": "EdDSA", "kid": "ed"}, claims),
        token({"alg": "none", "kid": "rsa"}, claims, b""),
        token({"alg": "HS256", "kid": "rsa"}, claims, b"\x04" * 32),
        token({"alg": "RS256", "kid": "rsa", "crit": ["exp"]}, claims),
        token({"alg": "ES384", "kid": "nobody"}, {"iss": 5, "aud": "x", "exp": "soon"}),
        token({"alg": "RS256", "kid": "rsa"}, {"function": {"permissions": [1, None]}}),
        b"a.b.c", b"..", b"x" * 20000,
    ]
    keysets = [
        json.dumps({"keys": [{"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"},
                             {"kty": "EC", "kid": "e", "crv": "P-256", "x": "AQ", "y": "AQ"},
                             {"kty": "OKP", "kid": "o", "crv": "Ed25519",
                              "x": b64url(b"\x05" * 32).decode()},
                             {"kty": "oct", "kid": "h", "k": "c2VjcmV0"},
                             {"kid": "n", "use": "enc"}, 7]}).encode(),
        b'{"keys": []}', b'{"keys": [], "keys": []}', b"[" * 40, b"",
    ]
    return ([b"\0Bearer " + t for t in tokens] + [b"\0bearer\t" + tokens[0], b"\0Basic x"] +
            [b"\1" + k for k in keysets])


def write(target, inputs):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("seed-*"):
        old.unlink()
    for data in inputs:
        name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
        (folder / name).write_bytes(data)
    print(f"{target}: {len(inputs)} seeds")


def main():
    requests = TEST_REQUESTS + HOSTILE_REQUESTS
    requests += [raw for raw, _, _ in framing_cases.REFUSED.values()]
    requests += list(framing_cases.ACCEPTED.values())
    requests += [with_behaviour(r, b) for r in BEHAVIOUR_REQUESTS for b in range(BEHAVIOURS)]
    write("request_path", requests)
    write("upstream_response", responses())
    write("config", CONFIGS)
    write("wasi_host", wasi_programs())
    write("jwt_token", jwt_inputs())


if __name__ == "__main__":
    main()
