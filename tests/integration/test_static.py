"""mode=static: the file server rooted at `static_path` (docs/static-mode.md).

Each test starts the real binary with `{"mode": "static", "static_path": <tmp dir>}` (no
fprocess) and speaks raw HTTP over loopback, so request targets reach the server exactly as
written: nothing on the client side normalises `..`, `%2e` or backslashes.
"""

import email.utils
import hashlib
import os
import socket
import struct
import time

import pytest

import harness

SECRET = b"top secret outside the root\n"
HELLO = b"hello, static world\n"
NOT_FOUND = b"404 page not found\n"


@pytest.fixture
def tree(tmp_path):
    """<tmp>/secret lies outside the root <tmp>/www; inside, a small site."""
    root = tmp_path / "www"
    root.mkdir()
    (tmp_path / "secret").write_bytes(SECRET)
    (root / "index.html").write_bytes(b"<html>home</html>\n")
    (root / "hello.txt").write_bytes(HELLO)
    (root / "data.unknownext").write_bytes(b"plain words\n")
    (root / "withindex").mkdir()
    (root / "withindex" / "index.html").write_bytes(b"<p>inner index</p>\n")
    (root / "noindex").mkdir()
    (root / "noindex" / "b.txt").write_bytes(b"b\n")
    (root / "noindex" / "a & <z>.txt").write_bytes(b"a\n")
    (root / "noindex" / "sub").mkdir()
    os.symlink(tmp_path / "secret", root / "escape")
    os.symlink(tmp_path, root / "escape-dir")
    os.symlink(root / "hello.txt", root / "inside")
    (root / "trap").mkdir()
    os.symlink(tmp_path / "secret", root / "trap" / "index.html")
    return tmp_path


@pytest.fixture
def wd(start_watchdog, tree):
    return start_watchdog({"mode": "static", "static_path": str(tree / "www")})


def get(wd, path, method="GET", headers=None, body=b""):
    return harness.request(wd.port, method, path, headers=headers, body=body)


def raw_get(conn, target, method="GET"):
    conn.send(f"{method} {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode("latin-1"))
    return conn.read_response(head_request=(method == "HEAD"))


def test_startup_line_and_no_access_line(start_watchdog, tree):
    wd = start_watchdog({"mode": "static", "static_path": str(tree / "www"),
                         "healthcheck_interval": "0", "write_timeout": "1s"})
    wd.wait_for_log(r"Serving files at: " + str(tree / "www") + "$")
    before = len(wd.lines())
    assert get(wd, "/hello.txt").status == 200
    assert get(wd, "/missing").status == 404
    # Like the original, no per-request line. The process's exit flushes every line it wrote,
    # so nothing can still be on its way when the log is read.
    wd.signal()
    assert wd.wait_exit() == 0
    assert not any("/hello.txt" in line or "/missing" in line for line in wd.lines()[before:])


def test_missing_root_is_a_warning_not_a_failure(start_watchdog, tmp_path):
    wd = start_watchdog({"mode": "static", "static_path": str(tmp_path / "nowhere")})
    wd.wait_for_log(r"Warning: static_path .*nowhere")
    resp = get(wd, "/")
    assert resp.status == 404
    assert resp.body == NOT_FOUND


@pytest.mark.parametrize("target", [
    "/../secret",
    "/../../../../../../etc/passwd",
    "/%2e%2e/%2e%2e/secret",
    "/%2e%2e/secret",
    "/..%2fsecret",
    "/..%2fetc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/a\\..\\..\\etc\\passwd",
    "/.%2e/secret",
    "/a\\..\\..\\secret",
    "/..\\secret",
    "/escape",
    "/escape-dir/secret",
    "/escape-dir/",
])
def test_traversal_never_reaches_outside_the_root(wd, target):
    conn = harness.RawConnection(wd.port)
    try:
        conn.send(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode("latin-1"))
        resp = conn.read_response()
        # The server may first redirect to the cleaned path; following it stays in the root.
        for _ in range(3):
            if resp.status != 301:
                break
            location = resp.header("Location")
            assert location.startswith("/")
            resp = raw_get(conn, location)
    finally:
        conn.close()
    assert resp.status in (400, 403, 404), resp
    assert SECRET not in resp.body
    assert b"root:" not in resp.body
    if resp.status == 404:
        assert resp.body == NOT_FOUND
        assert resp.header("Content-Type") == "text/plain; charset=utf-8"
        assert resp.header("X-Content-Type-Options") == "nosniff"


def test_symlink_inside_the_root_is_followed(wd):
    resp = get(wd, "/inside")
    assert resp.status == 200
    assert resp.body == HELLO


def test_index_html_leading_outside_is_not_used(wd):
    resp = get(wd, "/trap/")
    assert resp.status == 200
    assert SECRET not in resp.body
    assert resp.body == b"<pre>\n<a href=\"index.html\">index.html</a>\n</pre>\n"


def test_file_headers_and_types(wd):
    resp = get(wd, "/hello.txt")
    assert resp.status == 200
    assert resp.body == HELLO
    assert resp.header("Content-Length") == str(len(HELLO))
    assert resp.header("Accept-Ranges") == "bytes"
    assert resp.header("Content-Type") == "text/plain; charset=utf-8"
    assert email.utils.parsedate_to_datetime(resp.header("Last-Modified")) is not None
    assert resp.header("Last-Modified").endswith(" GMT")
    # An unknown extension is sniffed from the content.
    sniffed = get(wd, "/data.unknownext")
    assert sniffed.header("Content-Type") == "text/plain; charset=utf-8"


def test_root_serves_index_html(wd):
    resp = get(wd, "/")
    assert resp.status == 200
    assert resp.body == b"<html>home</html>\n"
    assert resp.header("Content-Type") == "text/html; charset=utf-8"
    inner = get(wd, "/withindex/")
    assert inner.body == b"<p>inner index</p>\n"


def test_directory_listing(wd):
    resp = get(wd, "/noindex/")
    assert resp.status == 200
    assert resp.header("Content-Type") == "text/html; charset=utf-8"
    assert resp.header("Last-Modified") is not None
    assert resp.body == (b"<pre>\n"
                         b"<a href=\"a%20&%20%3Cz%3E.txt\">a &amp; &lt;z&gt;.txt</a>\n"
                         b"<a href=\"b.txt\">b.txt</a>\n"
                         b"<a href=\"sub/\">sub/</a>\n"
                         b"</pre>\n")


@pytest.mark.parametrize("target,location", [
    ("/withindex", "withindex/"),
    ("/noindex?x=1", "noindex/?x=1"),
    ("/hello.txt/", "../hello.txt"),
    ("/index.html", "./"),
    ("/withindex/index.html", "./"),
])
def test_relative_redirects(wd, target, location):
    resp = get(wd, target)
    assert resp.status == 301
    assert resp.header("Location") == location
    assert resp.body == b""


def test_head_has_length_but_no_body(wd):
    conn = harness.RawConnection(wd.port)
    try:
        resp = raw_get(conn, "/hello.txt", method="HEAD")
        assert resp.status == 200
        assert resp.header("Content-Length") == str(len(HELLO))
        # Had any body bytes followed, they would be read as the next response's head.
        follow = raw_get(conn, "/hello.txt")
        assert follow.status == 200
        assert follow.body == HELLO
    finally:
        conn.close()


def test_if_modified_since_gives_304(wd):
    modified = get(wd, "/hello.txt").header("Last-Modified")
    resp = get(wd, "/hello.txt", headers={"If-Modified-Since": modified})
    assert resp.status == 304
    assert resp.body == b""
    assert resp.header("Last-Modified") == modified
    older = get(wd, "/hello.txt", headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert older.status == 200
    assert get(wd, "/hello.txt", headers={"If-None-Match": "*"}).status == 304
    assert get(wd, "/hello.txt", headers={"If-Match": "\"nope\""}).status == 412


def test_single_range_gives_206(wd):
    resp = get(wd, "/hello.txt", headers={"Range": "bytes=6-11"})
    assert resp.status == 206
    assert resp.body == HELLO[6:12]
    assert resp.header("Content-Range") == f"bytes 6-11/{len(HELLO)}"
    assert resp.header("Content-Length") == "6"
    suffix = get(wd, "/hello.txt", headers={"Range": "bytes=-6"})
    assert suffix.status == 206
    assert suffix.body == HELLO[-6:]


def test_unsatisfiable_range_gives_416(wd):
    resp = get(wd, "/hello.txt", headers={"Range": "bytes=1000-"})
    assert resp.status == 416
    assert resp.header("Content-Range") == f"bytes */{len(HELLO)}"
    assert resp.body == b"invalid range: failed to overlap\n"


def test_multiple_ranges_give_the_whole_file(wd):
    resp = get(wd, "/hello.txt", headers={"Range": "bytes=0-1,4-5"})
    assert resp.status == 200
    assert resp.body == HELLO


def test_post_is_served_and_put_is_not(wd):
    post = get(wd, "/hello.txt", method="POST", body=b"ignored request body")
    assert post.status == 200
    assert post.body == HELLO
    put = get(wd, "/hello.txt", method="PUT", body=b"x")
    assert put.status == 405
    assert put.header("Allow") == "GET, HEAD, POST"
    delete = get(wd, "/hello.txt", method="DELETE")
    assert delete.status == 405


def test_keep_alive_reuse_across_file_requests(wd):
    conn = harness.RawConnection(wd.port)
    try:
        for target, status in [("/hello.txt", 200), ("/", 200), ("/missing", 404),
                               ("/noindex", 301), ("/noindex/", 200), ("/hello.txt", 200)]:
            resp = raw_get(conn, target)
            assert resp.status == status, (target, resp)
            assert (resp.header("Connection") or "").lower() != "close"
        # Pipelined: two requests in one write, answered in order.
        conn.send(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /withindex/ HTTP/1.1\r\nHost: x\r\n\r\n")
        assert conn.read_response().body == HELLO
        assert conn.read_response().body == b"<p>inner index</p>\n"
    finally:
        conn.close()


GIB = 1 << 30
# Islands of data in an otherwise sparse file, so that a byte sent from the wrong offset shows.
MARKS = [(0, b"first bytes"), ((1 << 20) + 7, b"one MiB and seven"),
         ((512 << 20) - 3, b"across the middle"), (GIB - 16, b"the last sixteen")]


def _big_file(path, size=GIB, marks=MARKS):
    with open(path, "wb") as f:
        f.truncate(size)  # sparse: costs no disk
        for offset, data in marks:
            f.seek(offset)
            f.write(data)
    return path


def _file_digest(path, first=0, length=None):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        f.seek(first)
        left = os.path.getsize(path) - first if length is None else length
        while left:
            chunk = f.read(min(left, 4 << 20))
            h.update(chunk)
            left -= len(chunk)
    return h.hexdigest()


def _settled_fds(wd):
    """The descriptor count once no connection to the watchdog is left open on its side."""
    harness.wait_until(lambda: wd.server_connections() == 0, what="connections closed")
    return wd.open_fds()


def _read_body(conn, size, timeout=120):
    """Reads `size` body bytes after the head already read; returns (count, sha256 hex)."""
    h = hashlib.sha256(conn.buf[:size])
    got = len(conn.buf[:size])
    conn.buf = conn.buf[size:]
    deadline = _deadline(timeout)
    conn.sock.settimeout(timeout)
    while got < size:
        assert time.monotonic() < deadline, f"only {got} of {size} bytes in {timeout}s"
        chunk = conn.sock.recv(min(1 << 20, size - got))
        assert chunk, f"connection closed after {got} of {size} bytes"
        got += len(chunk)
        h.update(chunk)
    return got, h.hexdigest()


def _head(conn, target, extra=b""):
    conn.send(b"GET " + target.encode() + b" HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n")
    return conn._read_until(b"\r\n\r\n", _deadline(30)).decode("latin-1")


def test_one_gib_file_goes_out_with_sendfile_in_constant_memory(wd, tree):
    path = _big_file(tree / "www" / "big.bin")
    expected = _file_digest(path)
    get(wd, "/hello.txt")  # let the process reach its steady state before measuring
    peak_before = wd.rss_kib(peak=True)
    io_before = wd.proc_io()
    conn = harness.RawConnection(wd.port, timeout=120)
    try:
        head = _head(conn, "/big.bin")
        assert head.startswith("HTTP/1.1 200 ")
        assert f"Content-Length: {GIB}\r\n" in head
        assert _read_body(conn, GIB) == (GIB, expected)
        io_after = wd.proc_io()
        # The connection is still good for another request.
        assert raw_get(conn, "/hello.txt").body == HELLO
    finally:
        conn.close()
    # sendfile counts its bytes in rchar like a read does, but it is one "read" syscall per call
    # of up to 2 MiB, where reading costs one per 64 KiB chunk (16384 for 1 GiB). Fewer than one
    # per 128 KiB can only be sendfile.
    syscalls = io_after["syscr"] - io_before["syscr"]
    harness.report("static 1 GiB file: read-type syscalls", syscalls)
    assert syscalls < GIB // (128 << 10), f"{syscalls} read syscalls for 1 GiB: not sendfile"
    growth_kib = wd.rss_kib(peak=True) - peak_before
    harness.report("static 1 GiB file: peak RSS growth KiB", growth_kib)
    if not harness.SANITIZED:
        assert growth_kib < 32 * 1024, f"peak RSS grew by {growth_kib} KiB for a 1 GiB file"


def test_range_of_a_large_file_sends_only_the_range(wd, tree):
    path = _big_file(tree / "www" / "big.bin")
    first, last = (512 << 20) - 100, (512 << 20) + (3 << 20)  # > 64 KiB: the sendfile path
    length = last - first + 1
    conn = harness.RawConnection(wd.port, timeout=60)
    try:
        head = _head(conn, "/big.bin", f"Range: bytes={first}-{last}\r\n".encode())
        assert head.startswith("HTTP/1.1 206 ")
        assert f"Content-Range: bytes {first}-{last}/{GIB}\r\n" in head
        assert f"Content-Length: {length}\r\n" in head
        assert _read_body(conn, length) == (length, _file_digest(path, first, length))
        # Nothing beyond the range: the next bytes on the connection are the next response.
        resp = raw_get(conn, "/hello.txt")
        assert resp.status == 200 and resp.body == HELLO
        # A suffix range at the very end of the file.
        head = _head(conn, "/big.bin", b"Range: bytes=-200000\r\n")
        assert f"Content-Range: bytes {GIB - 200000}-{GIB - 1}/{GIB}\r\n" in head
        assert _read_body(conn, 200000) == (200000, _file_digest(path, GIB - 200000))
    finally:
        conn.close()


def test_head_of_a_large_file_has_no_body(wd, tree):
    _big_file(tree / "www" / "big.bin")
    conn = harness.RawConnection(wd.port)
    try:
        resp = raw_get(conn, "/big.bin", method="HEAD")
        assert resp.status == 200 and resp.header("Content-Length") == str(GIB)
        # Had any body byte been sent, it would be read here as the start of the next response.
        assert raw_get(conn, "/hello.txt").body == HELLO
    finally:
        conn.close()


def test_pipelined_requests_after_a_file_body(wd, tree):
    data = os.urandom(3 << 20)
    (tree / "www" / "mid.bin").write_bytes(data)
    conn = harness.RawConnection(wd.port, timeout=60)
    try:
        conn.send(b"GET /mid.bin HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /mid.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=100-200099\r\n\r\n"
                  b"GET /withindex/ HTTP/1.1\r\nHost: x\r\n\r\n")
        first = conn.read_response()
        assert first.status == 200 and first.body == data
        assert conn.read_response().body == HELLO
        ranged = conn.read_response()
        assert ranged.status == 206 and ranged.body == data[100:200100]
        assert conn.read_response().body == b"<p>inner index</p>\n"
    finally:
        conn.close()


def test_client_leaving_mid_file_releases_every_descriptor(wd, tree):
    _big_file(tree / "www" / "big.bin")
    get(wd, "/big.bin", headers={"Range": "bytes=0-99999"})  # the sendfile path has run once
    baseline = _settled_fds(wd)
    for _ in range(3):
        conn = harness.RawConnection(wd.port, timeout=30)
        head = _head(conn, "/big.bin")
        assert head.startswith("HTTP/1.1 200 ")
        got = len(conn.buf)
        while got < (8 << 20):  # well into the file, then gone with the socket buffers full
            chunk = conn.sock.recv(1 << 20)
            assert chunk
            got += len(chunk)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()  # a reset
    # The mode closes its descriptors with uv_fs_close, a moment after the sockets are gone.
    _settled_fds(wd)
    harness.wait_until(lambda: wd.open_fds() == baseline, what=f"fd count back to {baseline}")
    assert get(wd, "/hello.txt").body == HELLO


def test_write_timeout_cancels_a_file_the_client_does_not_read(start_watchdog, tree):
    _big_file(tree / "www" / "big.bin")
    wd = start_watchdog({"mode": "static", "static_path": str(tree / "www"),
                         "write_timeout": "1s"})
    baseline = _settled_fds(wd)
    conn = harness.RawConnection(wd.port, timeout=30)
    try:
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        head = _head(conn, "/big.bin")
        assert head.startswith("HTTP/1.1 200 ")
        # Not reading: the transfer stalls until write_timeout ends it and closes the socket,
        # after which everything sent so far is still readable, then the end.
        harness.wait_until(lambda: wd.open_fds() <= baseline, timeout=15,
                           what="the connection closed by write_timeout")
        rest = conn.read_until_closed(timeout=30)
        assert len(rest) < GIB
    finally:
        conn.close()
    _settled_fds(wd)
    harness.wait_until(lambda: wd.open_fds() == baseline, what=f"fd count back to {baseline}")


def test_drain_waits_for_a_file_in_flight(start_watchdog, tree):
    path = _big_file(tree / "www" / "big.bin", size=64 << 20, marks=[(5, b"x"), ((64 << 20) - 1, b"y")])
    wd = start_watchdog({"mode": "static", "static_path": str(tree / "www"),
                         "healthcheck_interval": "0", "write_timeout": "20s"})
    conn = harness.RawConnection(wd.port, timeout=30)
    try:
        head = _head(conn, "/big.bin")
        assert f"Content-Length: {64 << 20}\r\n" in head
        # Into the body, then the shutdown starts while most of the file is still to come.
        conn.sock.settimeout(30)
        first = conn.buf + conn.sock.recv(1 << 20)
        conn.buf = first
        wd.signal()
        wd.wait_for_log(r"draining")
        assert _read_body(conn, 64 << 20) == (64 << 20, _file_digest(path))
        assert conn.is_closed(timeout=10)
    finally:
        conn.close()
    assert wd.wait_exit() == 0


def _deadline(seconds):
    return time.monotonic() + seconds
