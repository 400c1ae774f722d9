"""Serves requests from a C function built against the installed library (installed_library.sh):
   serve_c_function.py PROGRAM LIBDIR
It starts the program on free loopback ports, checks a greeting, an upper-cased echo and a
failure, then stops it with SIGTERM and checks its exit status."""

import os
import signal
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import harness  # noqa: E402


def main():
    program, libdir = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmpdir:
        wd = harness.WatchdogProcess({"LD_LIBRARY_PATH": libdir, "healthcheck_interval": "0s"},
                                     tmpdir, binary=program)
        try:
            greeting = harness.request(wd.port, "GET", "/")
            assert greeting.status == 200, greeting
            assert greeting.body == b"Hello from a C function: GET\n", greeting
            echo = harness.request(wd.port, "POST", "/upper", body=b"installed")
            assert echo.body == b"INSTALLED", echo
            assert harness.request(wd.port, "GET", "/fail").status == 500
            wd.signal(signal.SIGTERM)
            assert wd.wait_exit() == 0, "\n".join(wd.lines())
        finally:
            wd.close()
    print("served a C function built against the installed library")


if __name__ == "__main__":
    main()
