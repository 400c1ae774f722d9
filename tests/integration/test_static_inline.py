"""mode=static, the fast path on the loop (lib/modes/static/inline_resolve.*).

The fast path must give exactly the thread-pool job's answers. Each comparison starts two
watchdogs on the same tree, one with the fast path and one without
(`OFWATCHDOG_STATIC_INLINE=0`), sends both the same raw request and compares the raw bytes of
the answers, only the `Date` line masked. Whether the fast path was taken is seen from the
process's threads: libuv starts its thread pool on the first job, so a watchdog that answered
only on the loop still has just its main thread.
"""

import os
import re

import pytest

import harness

HELLO = b"hello, static world\n"
OFF = {"OFWATCHDOG_STATIC_INLINE": "0"}


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (tmp_path / "secret").write_bytes(b"outside\n")
    (root / "index.html").write_bytes(b"<html>home</html>\n")
    (root / "hello.txt").write_bytes(HELLO)
    (root / "empty").write_bytes(b"")
    (root / "words.unknownext").write_bytes(b"plain words\n")
    (root / "page.unknownext").write_bytes(b"  <!DOCTYPE html><p>x</p>\n")
    (root / "blob.unknownext").write_bytes(bytes(range(256)))
    (root / "big.unknownext").write_bytes(bytes(range(256)) * 400)  # 100 KiB: kept open
    (root / ".dotfile").write_bytes(b"dot\n")
    (root / "a name%20x.txt").write_bytes(b"spaced\n")
    (root / "epoch.txt").write_bytes(b"old\n")
    os.utime(root / "epoch.txt", (0, 0))
    (root / "withindex").mkdir()
    (root / "withindex" / "index.html").write_bytes(b"<p>inner index</p>\n")
    (root / "noindex").mkdir()
    (root / "noindex" / "b.txt").write_bytes(b"b\n")
    os.symlink(tmp_path / "secret", root / "escape")
    os.symlink(root / "hello.txt", root / "inside-absolute")
    os.symlink("hello.txt", root / "inside-relative")
    os.mkfifo(root / "fifo")
    return tmp_path


def start_pair(start_watchdog, root):
    fast = start_watchdog({"mode": "static", "static_path": str(root)})
    pool = start_watchdog({"mode": "static", "static_path": str(root), **OFF})
    return fast, pool


def raw_exchange(wd, method, target, headers=()):
    conn = harness.RawConnection(wd.port)
    try:
        head = f"{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers)
        conn.send((head + "\r\n").encode("latin-1"))
        data = conn.read_until_closed()
    finally:
        conn.close()
    return re.sub(rb"\r\nDate: [^\r]*", b"\r\nDate: -", data)


def threads(wd):
    return len(os.listdir(f"/proc/{wd.proc.pid}/task"))


LAST_MODIFIED_FUTURE = "Sat, 01 Jan 2039 00:00:00 GMT"
LAST_MODIFIED_PAST = "Sat, 01 Jan 2000 00:00:00 GMT"

CASES = [
    ("GET", "/hello.txt", ()),
    ("HEAD", "/hello.txt", ()),
    ("POST", "/hello.txt", ()),
    ("PUT", "/hello.txt", ()),
    ("GET", "/empty", ()),
    ("HEAD", "/empty", ()),
    ("GET", "/words.unknownext", ()),
    ("HEAD", "/words.unknownext", ()),
    ("GET", "/page.unknownext", ()),
    ("GET", "/blob.unknownext", ()),
    ("HEAD", "/blob.unknownext", ()),
    ("GET", "/big.unknownext", ()),
    ("HEAD", "/big.unknownext", ()),
    ("GET", "/big.unknownext", (("Range", "bytes=100-299"),)),
    ("GET", "/big.unknownext", (("Range", "bytes=1000-"),)),
    ("GET", "/.dotfile", ()),
    ("GET", "/a%20name%2520x.txt", ()),
    ("GET", "/epoch.txt", ()),
    ("GET", "/epoch.txt", (("If-Modified-Since", LAST_MODIFIED_PAST),)),
    ("GET", "/hello.txt", (("Range", "bytes=0-4"),)),
    ("GET", "/hello.txt", (("Range", "bytes=-3"),)),
    ("GET", "/hello.txt", (("Range", "bytes=5-"),)),
    ("GET", "/hello.txt", (("Range", "bytes=500-"),)),
    ("GET", "/hello.txt", (("Range", "bytes=-0"),)),
    ("GET", "/hello.txt", (("Range", "bytes=x"),)),
    ("GET", "/hello.txt", (("Range", "bytes=0-1,3-4"),)),
    ("HEAD", "/hello.txt", (("Range", "bytes=0-4"),)),
    ("GET", "/hello.txt", (("If-Modified-Since", LAST_MODIFIED_FUTURE),)),
    ("HEAD", "/hello.txt", (("If-Modified-Since", LAST_MODIFIED_FUTURE),)),
    ("GET", "/hello.txt", (("If-Modified-Since", LAST_MODIFIED_PAST),)),
    ("POST", "/hello.txt", (("If-Modified-Since", LAST_MODIFIED_FUTURE),)),
    ("GET", "/hello.txt", (("If-None-Match", "*"),)),
    ("POST", "/hello.txt", (("If-None-Match", "*"),)),
    ("GET", "/hello.txt", (("If-Match", '"abc"'),)),
    ("GET", "/hello.txt", (("If-Match", "*"),)),
    ("GET", "/hello.txt", (("If-Unmodified-Since", LAST_MODIFIED_PAST),)),
    ("GET", "/hello.txt", (("If-Range", LAST_MODIFIED_PAST), ("Range", "bytes=0-4"))),
    ("GET", "/hello.txt", (("If-Range", '"tag"'), ("Range", "bytes=0-4"))),
    ("GET", "/hello.txt?x=1", ()),
    ("GET", "/hello.txt/", ()),
    ("GET", "/hello.txt/?q", ()),
    ("GET", "/missing.txt", ()),
    ("GET", "/missing/deeper.txt", ()),
    ("GET", "/hello.txt/deeper", ()),
    ("GET", "/escape", ()),
    ("GET", "/inside-absolute", ()),
    ("GET", "/inside-relative", ()),
    ("GET", "/fifo", ()),
    ("GET", "/", ()),
    ("GET", "/index.html", ()),
    ("GET", "/withindex", ()),
    ("GET", "/withindex/", ()),
    ("GET", "/noindex/", ()),
    ("GET", "/noindex/b.txt", ()),
]


def test_fast_path_answers_are_the_thread_pool_answers(start_watchdog, tree):
    fast, pool = start_pair(start_watchdog, tree / "www")
    for method, target, headers in CASES:
        want = raw_exchange(pool, method, target, headers)
        got = raw_exchange(fast, method, target, headers)
        assert got == want, f"{method} {target} {headers}"
        assert want.startswith(b"HTTP/1.1 ")


def test_small_files_are_answered_without_the_thread_pool(start_watchdog, tree):
    fast, pool = start_pair(start_watchdog, tree / "www")
    before = threads(fast)
    for _ in range(20):
        for method, target, headers in CASES[:11] + CASES[19:40]:
            if "big" not in target:
                raw_exchange(fast, method, target, headers)
    assert threads(fast) == before, "a small cached file went to the thread pool"
    # The same requests with the fast path off start the pool: the count can tell them apart.
    before_pool = threads(pool)
    raw_exchange(pool, "GET", "/hello.txt")
    assert threads(pool) > before_pool
    # And a directory still goes to the job on the fast watchdog.
    raw_exchange(fast, "GET", "/noindex/")
    assert threads(fast) > before


def test_a_replaced_root_is_served_as_without_the_fast_path(start_watchdog, tree):
    root = tree / "www"
    fast, pool = start_pair(start_watchdog, root)
    assert raw_exchange(fast, "GET", "/hello.txt").endswith(HELLO)
    # The root is renamed away and a new directory takes its name: both serve the new one.
    os.rename(root, tree / "www-old")
    root.mkdir()
    (root / "hello.txt").write_bytes(b"replaced\n")
    for wd in (fast, pool):
        assert raw_exchange(wd, "GET", "/hello.txt").endswith(b"\r\n\r\nreplaced\n")
        assert b" 404 " in raw_exchange(wd, "GET", "/empty").split(b"\r\n")[0]
    # The root is gone: both answer 404.
    os.remove(root / "hello.txt")
    os.rmdir(root)
    for wd in (fast, pool):
        assert raw_exchange(wd, "GET", "/hello.txt").startswith(b"HTTP/1.1 404 ")


def test_a_symlinked_root_is_served_only_through_the_job(start_watchdog, tree):
    # The configured name is not the real path: the fast path stays off, so answers come from
    # the thread pool (and are still right).
    os.symlink(tree / "www", tree / "link")
    wd = start_watchdog({"mode": "static", "static_path": str(tree / "link")})
    before = threads(wd)
    assert raw_exchange(wd, "GET", "/hello.txt").endswith(b"\r\n\r\n" + HELLO)
    assert threads(wd) > before
