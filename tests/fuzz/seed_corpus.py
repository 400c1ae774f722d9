#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/.

The requests are the raw bytes the integration tests send (tests/integration/test_http_protocol.py,
test_http_mode.py, test_streaming.py), plus hostile framings a fuzzer would take long to find on
its own. Run it after changing the seeds; it removes only the files it wrote before (named
seed-*), so crash reproducers added to a corpus stay. Files are named after their content, so a
rerun with the same seeds changes nothing.
"""

import hashlib
import pathlib
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


if __name__ == "__main__":
    main()
