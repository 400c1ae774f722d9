"""mode=static: the file server rooted at `static_path` (modes.md §6, decisions G1 and G2).

Each test starts the real binary with `{"mode": "static", "static_path": <tmp dir>}` (no
fprocess) and speaks raw HTTP over loopback, so request targets reach the server exactly as
written: nothing on the client side normalises `..`, `%2e` or backslashes.
"""

import email.utils
import os

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


def test_large_sparse_file_streams_in_constant_memory(wd, tree):
    size = 256 * 1024 * 1024
    with open(tree / "www" / "big.bin", "wb") as f:
        f.truncate(size)  # sparse: costs no disk
    get(wd, "/hello.txt")  # let the process reach its steady state before measuring
    peak_before = wd.rss_kib(peak=True)
    conn = harness.RawConnection(wd.port, timeout=60)
    try:
        conn.send(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        head = conn._read_until(b"\r\n\r\n", _deadline(60)).decode("latin-1")
        assert head.startswith("HTTP/1.1 200 ")
        assert f"Content-Length: {size}\r\n" in head
        got = len(conn.buf)
        conn.buf = b""
        while got < size:
            chunk = conn.sock.recv(1 << 20)
            assert chunk, f"connection closed after {got} of {size} bytes"
            got += len(chunk)
            assert chunk.count(0) == len(chunk)
        assert got == size
        # The connection is still good for another request.
        assert raw_get(conn, "/hello.txt").body == HELLO
    finally:
        conn.close()
    growth_kib = wd.rss_kib(peak=True) - peak_before
    if not harness.SANITIZED:
        assert growth_kib < 32 * 1024, f"peak RSS grew by {growth_kib} KiB for a 256 MiB file"


def _deadline(seconds):
    import time
    return time.monotonic() + seconds
