"""jwt_auth=true: OpenFaaS function authentication (docs/config.md).

A local OpenID provider (jwt_issuer.py) on an ephemeral loopback port stands in for the gateway:
the watchdog discovers it at start-up (`jwt_auth_issuer_url`), fetches its JWK Set, and then wants
a Bearer token signed by one of its keys on every function request, naming this function
(OPENFAAS_NAMESPACE:OPENFAAS_NAME) in the token's `function.permissions` (and in
`function.audience`, when that list is there).

One streaming watchdog serves the table of tokens (`guarded`); its function appends the
request's `X-Case` header to a file, so a denied request is seen not to have run it. Then the
denials' log line and metric, the probes, a keep-alive connection, a 1 MiB token, the key refresh,
the debug log, the start-up failures, and a small check of every mode behind the check."""

import json
import os
import re
import shutil
import subprocess
import time

import pytest

import harness
import jwt_issuer
from harness import request, wait_until
from jwt_issuer import CONFIG_PATH, JWKS_PATH

NAMESPACE = "openfaas-fn"
NAME = "jwt-echo"
FUNCTION = f"{NAMESPACE}:{NAME}"
AUTH_SECONDS = re.compile(r"^\d+\.\d{6}$")
BEARER_MISSING = b"Bearer must be present in Authorization header\n"
NOT_VERIFIED = b"failed to verify JWT token: "
FORBIDDEN = b"insufficient permissions\n"
# The time a denial took, as Go prints a time.Duration rounded to the millisecond: 0s, 21ms, 1.5s.
DENIED_TIME = r"\((0s|\d+ms|\d+(\.\d+)?s)\)$"
PY = "/usr/bin/python3"
KEYS = ("rsa", "ps", "ec", "ec384", "ed")


def base_env():
    """The suite's environment without anything that would configure authentication (or send
    the watchdog's requests to the provider through a proxy)."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("OPENFAAS_", "jwt_")) and "proxy" not in k.lower()}


def auth_env(issuer, **extra):
    env = {"jwt_auth": "true", "jwt_auth_issuer_url": issuer.base,
           "OPENFAAS_NAME": NAME, "OPENFAAS_NAMESPACE": NAMESPACE}
    env.update(extra)
    return env


def start(start_watchdog, env, **kwargs):
    # Registered with the fixture before it is waited for, so a failed start is reaped too.
    wd = start_watchdog(env, extra_env_base=base_env(), wait_ready=False, **kwargs)
    wait_listening(wd)
    return wd


def wait_listening(wd):
    """wd.wait_ready(), failing at once with the log when the watchdog exits instead."""
    wait_until(lambda: wd.proc.poll() is not None
               or any("Metrics listening on port" in line for line in wd.lines()),
               what="the watchdog to listen or exit")
    if wd.proc.poll() is not None:
        wd.wait_exit()
        raise AssertionError(f"the watchdog exited ({wd.proc.returncode}) instead of "
                             "serving; log:\n" + "\n".join(wd.lines()))
    wd.wait_ready()


def run_to_exit(env, tmp_path, timeout=20):
    """Runs the watchdog until it exits (start-up failures); returns (rc, stderr + stdout)."""
    full = base_env()
    for key in ("mode", "fprocess", "function_process"):
        full.pop(key, None)
    full.update({"port": "0", "metrics_port": "0", "TMPDIR": str(tmp_path)})
    full.update(env)
    p = subprocess.run([harness.BIN], env=full, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stderr.decode("utf-8", "replace") + p.stdout.decode("utf-8", "replace")


def call(wd, authorization=None, case="", method="POST", path="/fn", body=b"", headers=None):
    h = {"X-Case": case} if case else {}
    if authorization is not None:
        h["Authorization"] = authorization
    h.update(headers or {})
    return request(wd.port, method, path, headers=h, body=body)


def denials(wd):
    """jwt_auth_denials_total by reason label, from the metrics port."""
    text = request(wd.metrics_port, "GET", "/metrics").body.decode()
    found = {}
    for m in re.finditer(r'^jwt_auth_denials_total\{(?:[^}]*,)?reason="([^"]*)"[^}]*\} (\S+)$',
                         text, re.M):
        found[m.group(1)] = found.get(m.group(1), 0.0) + float(m.group(2))
    return found


def assert_unauthorized(r, body=None):
    assert r.status == 401, r
    assert r.header("WWW-Authenticate") == "Bearer realm=IAM function invoke", r
    assert r.header("X-OpenFaaS-Internal") == "faas-middleware", r
    assert r.header("Content-Type") == "text/plain; charset=utf-8", r
    if body is None:
        assert r.body.startswith(NOT_VERIFIED) and r.body.endswith(b"\n"), r
    elif isinstance(body, tuple):
        assert r.body == BEARER_MISSING or (r.body.startswith(NOT_VERIFIED)
                                            and r.body.endswith(b"\n")), r
    else:
        assert r.body == body, r


def assert_forbidden(r):
    assert r.status == 403, r
    assert r.body == FORBIDDEN, r
    assert r.header("X-OpenFaaS-Internal") == "faas-middleware", r


# --- the shared provider and the watchdog of the token table ----------------------------------

@pytest.fixture(scope="module")
def issuer():
    with jwt_issuer.Issuer(function=FUNCTION, keys=KEYS) as i:
        yield i


@pytest.fixture(scope="module")
def guarded(issuer, tmp_path_factory):
    """A streaming watchdog whose function records each run's X-Case in `runs` and answers
    `ran <case> auth=<X-Auth-Seconds>`."""
    tmp = tmp_path_factory.mktemp("guarded")
    runs = tmp / "runs"
    runs.write_text("")
    script = ('printf "%s\\n" "$Http_X_Case" >> "$0"; '
              'printf "ran %s auth=%s\\n" "$Http_X_Case" "$Http_X_Auth_Seconds"')
    env = auth_env(issuer, fprocess=json.dumps(["sh", "-c", script, str(runs)]),
                   content_type="text/plain")
    os.makedirs(tmp / "wd")
    wd = harness.WatchdogProcess(env, tmp / "wd", extra_env_base=base_env(), wait_ready=False)
    wd.runs = runs
    try:
        wait_listening(wd)
        wd.wait_for_log(r"JWT Auth: true")
        yield wd
    finally:
        wd.close()


def ran(wd, case):
    return case in wd.runs.read_text().split("\n")


def tok(make):
    """An Authorization value `Bearer <token>` from make(issuer)."""
    return lambda i: "Bearer " + make(i)


def fn_claim(permissions=None, audience=None):
    claim = {}
    if permissions is not None:
        claim["permissions"] = permissions
    if audience is not None:
        claim["audience"] = audience
    return {"function": claim}


def now():
    return int(time.time())


ACCEPTED = [
    ("rs256", tok(lambda i: i.mint("rsa"))),
    ("ps256", tok(lambda i: i.mint("ps"))),
    ("es256", tok(lambda i: i.mint("ec"))),
    ("es384", tok(lambda i: i.mint("ec384"))),
    ("eddsa", tok(lambda i: i.mint("ed"))),
    ("lower-case-scheme", lambda i: "bearer " + i.mint("rsa")),
    ("upper-case-scheme", lambda i: "BEARER " + i.mint("ec")),
    ("aud-array-with-issuer", tok(lambda i: i.mint("rsa", {"aud": ["http://other", i.issuer]}))),
    ("no-exp-no-nbf", tok(lambda i: i.mint("ed", {"exp": None, "nbf": None}))),
    ("perm-star", tok(lambda i: i.mint("rsa", fn_claim(["*"])))),
    ("perm-ns-star", tok(lambda i: i.mint("rsa", fn_claim([f"{NAMESPACE}:*"])))),
    ("perm-star-name", tok(lambda i: i.mint("rsa", fn_claim([f"*:{NAME}"])))),
    ("perm-inner-stars", tok(lambda i: i.mint("rsa", fn_claim(["open*:jwt-*", "x"])))),
    ("perm-one-of-many", tok(lambda i: i.mint("rsa", fn_claim(["a:b", FUNCTION, "c:*"])))),
    ("audience-absent", tok(lambda i: i.mint("rsa", fn_claim([FUNCTION])))),
    ("audience-empty", tok(lambda i: i.mint("rsa", fn_claim([FUNCTION], [])))),
    ("audience-star", tok(lambda i: i.mint("rsa", fn_claim([FUNCTION], ["*"])))),
    ("audience-ns-star", tok(lambda i: i.mint("rsa", fn_claim(["*"], [f"{NAMESPACE}:*"])))),
]

# (case, Authorization value, expected body: None = `failed to verify JWT token: ...`, bytes =
# exactly, a tuple = either)
UNAUTHORIZED = [
    ("no-header", lambda i: None, BEARER_MISSING),
    ("empty-header", lambda i: "", BEARER_MISSING),
    ("basic-scheme", lambda i: "Basic dXNlcjpwYXNz", BEARER_MISSING),
    ("token-without-scheme", lambda i: i.mint("rsa"), BEARER_MISSING),
    ("scheme-alone", lambda i: "Bearer", ()),
    ("scheme-and-space", lambda i: "Bearer ", ()),
    ("garbage", lambda i: "Bearer not-a-token", None),
    ("three-garbage-parts", lambda i: "Bearer a.b.c", None),
    ("expired", tok(lambda i: i.mint("rsa", {"exp": now() - 120, "iat": now() - 600,
                                             "nbf": now() - 600})), None),
    ("not-yet-valid", tok(lambda i: i.mint("ec", {"nbf": now() + 120})), None),
    ("wrong-issuer", tok(lambda i: i.mint("rsa", {"iss": "http://evil.example"})), None),
    ("no-issuer", tok(lambda i: i.mint("rsa", {"iss": None})), None),
    ("wrong-audience", tok(lambda i: i.mint("rsa", {"aud": "http://other.example"})), None),
    ("aud-array-without-issuer", tok(lambda i: i.mint("ed", {"aud": ["a", "b"]})), None),
    ("no-audience", tok(lambda i: i.mint("rsa", {"aud": None})), None),
    ("unknown-kid", tok(lambda i: i.mint_unknown_kid("rsa")), None),
    ("no-kid", tok(lambda i: i.mint("rsa", headers={"kid": None})), None),
    ("bad-signature-rsa", tok(lambda i: i.mint_bad_signature("rsa")), None),
    ("bad-signature-ec", tok(lambda i: i.mint_bad_signature("ec")), None),
    ("bad-signature-eddsa", tok(lambda i: i.mint_bad_signature("ed")), None),
    ("alg-none", tok(lambda i: i.mint_none("rsa")), None),
    ("hs256-keyed-with-public-pem", tok(lambda i: i.mint_hs256_public("rsa")), None),
    # An ES256 token (good signature) naming the kid of an RSA key.
    ("ec-token-with-rsa-kid", tok(lambda i: i.mint("ec", headers={"kid": i.key("rsa").kid})),
     None),
    # An RS256 signature under a header saying PS256, with the RS256 key's kid.
    ("alg-swapped-in-header", tok(lambda i: i.mint("rsa", headers={"alg": "PS256"})), None),
    # An ES256 signature under a header saying ES384, with the P-256 key's kid.
    ("curve-mismatch", tok(lambda i: i.mint("ec", headers={"alg": "ES384"})), None),
]

FORBIDDEN_CASES = [
    ("other-function", [f"{NAMESPACE}:other"], None),
    ("other-namespace", [f"other-ns:{NAME}"], None),
    ("prefix-of-name", [f"{NAMESPACE}:jwt-ech"], None),
    ("name-is-prefix", [f"{FUNCTION}-v2"], None),
    ("substring", ["fn:jwt-echo"], None),
    ("star-other-name", ["*:other"], None),
    ("other-ns-star", ["other:*"], None),
    ("permissions-empty", [], None),
    ("permissions-missing", None, [FUNCTION]),
    ("audience-not-matching", [FUNCTION], [f"{NAMESPACE}:other"]),
    ("audience-other-ns-star", ["*"], ["other:*"]),
]


@pytest.mark.parametrize("case,make", ACCEPTED, ids=[c for c, _ in ACCEPTED])
def test_accepted_token_runs_the_function(guarded, issuer, case, make):
    r = call(guarded, make(issuer), case)
    assert r.status == 200, r
    m = re.match(rb"^ran (\S+) auth=(\S*)\n$", r.body)
    assert m and m.group(1).decode() == case, r
    assert AUTH_SECONDS.match(m.group(2).decode()), r
    assert ran(guarded, case)


@pytest.mark.parametrize("case,make,body", UNAUTHORIZED, ids=[c for c, _, _ in UNAUTHORIZED])
def test_unverified_request_is_401_and_not_run(guarded, issuer, case, make, body):
    r = call(guarded, make(issuer), case)
    assert_unauthorized(r, body)
    assert not ran(guarded, case)


@pytest.mark.parametrize("case,permissions,audience", FORBIDDEN_CASES,
                         ids=[c for c, _, _ in FORBIDDEN_CASES])
def test_token_for_another_function_is_403_and_not_run(guarded, issuer, case, permissions,
                                                       audience):
    r = call(guarded, "Bearer " + issuer.mint("rsa", fn_claim(permissions, audience)), case)
    assert_forbidden(r)
    assert not ran(guarded, case)


def test_token_without_function_claim_is_403(guarded, issuer):
    r = call(guarded, "Bearer " + issuer.mint("ed", {"function": None}), "no-function-claim")
    assert_forbidden(r)
    assert not ran(guarded, "no-function-claim")


def test_a_client_x_auth_seconds_does_not_pass_the_check(guarded):
    r = call(guarded, None, "spoofed", headers={"X-Auth-Seconds": "1.000000"})
    assert_unauthorized(r, BEARER_MISSING)
    assert not ran(guarded, "spoofed")


def test_denials_are_logged_and_counted(guarded, issuer):
    before = denials(guarded)
    start = len(guarded.lines())
    assert_unauthorized(call(guarded, None, "log-missing", path="/deny/me?secret=1"),
                        BEARER_MISSING)
    guarded.wait_for_log(r"POST /deny/me - 401 ACCESS DENIED - " + DENIED_TIME, start=start)
    assert not any("secret=1" in line for line in guarded.lines()[start:])
    wait_until(lambda: denials(guarded).get("missing", 0) == before.get("missing", 0) + 1,
               what="jwt_auth_denials_total{reason=\"missing\"} to rise by one")

    before = denials(guarded)
    r = call(guarded, "Bearer " + issuer.mint("rsa", fn_claim(["x:y"])), "log-403",
             method="GET", path="/forbidden")
    assert_forbidden(r)
    guarded.wait_for_log(r"GET /forbidden - 403 ACCESS DENIED - " + DENIED_TIME, start=start)
    wait_until(lambda: denials(guarded).get("permissions", 0)
               == before.get("permissions", 0) + 1,
               what="jwt_auth_denials_total{reason=\"permissions\"} to rise by one")

    before = sum(denials(guarded).values())
    assert_unauthorized(call(guarded, "Bearer " + issuer.mint_bad_signature("rsa"), "log-sig"))
    wait_until(lambda: sum(denials(guarded).values()) == before + 1,
               what="jwt_auth_denials_total to rise by one for a bad signature")


def test_probes_and_metrics_need_no_token(guarded):
    for path in ("/_/health", "/_/ready"):
        r = request(guarded.port, "GET", path)
        assert r.status == 200, (path, r)
    r = request(guarded.metrics_port, "GET", "/metrics")
    assert r.status == 200 and b"jwt_auth_denials_total" in r.body, r


def test_keep_alive_connection_survives_a_denial(guarded, issuer):
    conn = harness.RawConnection(guarded.port)
    try:
        conn.send(b"POST /fn HTTP/1.1\r\nHost: x\r\nX-Case: ka-denied\r\n"
                  b"Content-Length: 11\r\n\r\nhello world")
        assert_unauthorized(conn.read_response(), BEARER_MISSING)
        token = issuer.mint("rsa")
        try:
            conn.send(b"POST /fn HTTP/1.1\r\nHost: x\r\nX-Case: ka-allowed\r\n"
                      b"Authorization: Bearer " + token.encode() + b"\r\nContent-Length: 0\r\n\r\n")
            second = conn.read_response()
        except (ConnectionError, OSError):
            second = None  # the watchdog may close after a denial; it must not misread it
        if second is not None:
            assert second.status == 200 and second.body.startswith(b"ran ka-allowed "), second
    finally:
        conn.close()
    assert not ran(guarded, "ka-denied")


def test_a_one_mebibyte_token_is_refused_and_the_watchdog_goes_on(guarded, issuer):
    token = "A" * (1 << 20)
    conn = harness.RawConnection(guarded.port, timeout=20)
    try:
        try:
            conn.send(b"GET /fn HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Case: huge\r\n"
                      b"Authorization: Bearer " + token.encode() + b"\r\n\r\n")
        except OSError:
            pass  # refused before it was all read: the answer is read below
        r = conn.read_response()
    finally:
        conn.close()
    assert r.status in (401, 431), r
    assert not ran(guarded, "huge")
    r = call(guarded, "Bearer " + issuer.mint("rsa"), "after-huge")
    assert r.status == 200 and r.body.startswith(b"ran after-huge "), r
    assert guarded.proc.poll() is None


def test_discovery_and_key_set_were_fetched_as_the_watchdog(guarded, issuer):
    assert issuer.count(CONFIG_PATH) >= 1 and issuer.count(JWKS_PATH) >= 1
    assert set(issuer.user_agents) == {"openfaas-watchdog"}, issuer.user_agents
    # jwt_auth_debug is off: no debug lines.
    assert not any("[JWT Auth]" in line for line in guarded.lines())


# --- key refresh --------------------------------------------------------------------------

def test_unknown_kid_fetches_the_key_set_again_at_most_once_a_minute(start_watchdog):
    with jwt_issuer.Issuer(function=FUNCTION, keys=("rsa",)) as issuer:
        wd = start(start_watchdog, auth_env(issuer, fprocess="cat"))
        wd.wait_for_log(r"JWT Auth: true")
        assert issuer.count(JWKS_PATH) == 1
        assert call(wd, "Bearer " + issuer.mint("rsa"), body=b"a").body == b"a"
        assert issuer.count(JWKS_PATH) == 1

        # The provider rotates in key B: its first token makes the watchdog fetch the set again.
        issuer.add_key("ec")
        r = call(wd, "Bearer " + issuer.mint("ec"), body=b"b")
        assert (r.status, r.body) == (200, b"b"), r
        assert issuer.count(JWKS_PATH) == 2
        # ...once: B is known now.
        assert call(wd, "Bearer " + issuer.mint("ec"), body=b"c").body == b"c"
        assert issuer.count(JWKS_PATH) == 2

        # Another new key within the minute: no fetch, so its token is refused.
        issuer.add_key("ed")
        assert_unauthorized(call(wd, "Bearer " + issuer.mint("ed"), body=b"d"))
        assert issuer.count(JWKS_PATH) == 2
        # The keys already known still serve.
        assert call(wd, "Bearer " + issuer.mint("rsa"), body=b"e").body == b"e"
        assert issuer.count(JWKS_PATH) == 2
        assert issuer.count(CONFIG_PATH) == 1


# --- debug log and a discovered issuer that is not the address ----------------------------

def test_debug_log_names_issuer_keys_and_each_token(start_watchdog):
    name = "http://issuer.example"
    with jwt_issuer.Issuer(issuer=name, function=FUNCTION, keys=("rsa", "ed")) as issuer:
        wd = start(start_watchdog, auth_env(issuer, fprocess="cat", jwt_auth_debug="true"))
        wd.wait_for_log(r"JWT Auth: true")
        debug = r"(^|\s)\[JWT Auth\].*"
        wd.wait_for_log(debug + re.escape(name))
        wd.wait_for_log(debug + re.escape(issuer.base + JWKS_PATH))
        for key in ("rsa", "ed"):
            wd.wait_for_log(debug + re.escape(issuer.key(key).kid))

        # Tokens carry the discovered issuer, not the address it was fetched from.
        mark = len(wd.lines())
        r = call(wd, "Bearer " + issuer.mint("ed", {"aud": [name, "http://aud.example"]}),
                 body=b"ok")
        assert (r.status, r.body) == (200, b"ok"), r
        wd.wait_for_log(r"\[JWT Auth\].*http://aud\.example", start=mark)
        wd.wait_for_log(r"\[JWT Auth\].*http://issuer\.example", start=mark)
        assert_unauthorized(call(wd, "Bearer " + issuer.mint("rsa", {"iss": issuer.base,
                                                                    "aud": issuer.base})))


# --- start-up ---------------------------------------------------------------------------------

def test_a_slow_provider_is_waited_for(start_watchdog):
    with jwt_issuer.Issuer(function=FUNCTION, keys=("rsa",)) as issuer:
        issuer.answer(CONFIG_PATH, delay=0.3)
        issuer.answer(JWKS_PATH, delay=0.3)
        wd = start(start_watchdog, auth_env(issuer, fprocess="cat"))
        wd.wait_for_log(r"JWT Auth: true")
        assert call(wd, "Bearer " + issuer.mint("rsa"), body=b"x").body == b"x"


def _doc(issuer, **members):
    doc = issuer.discovery()
    doc.update(members)
    return json.dumps({k: v for k, v in doc.items() if v is not None}).encode()


# (case, how the provider fails, what the log line must also say)
STARTUP_FAILURES = [
    ("discovery-500", lambda i: i.answer(CONFIG_PATH, status=500), "500"),
    ("discovery-404", lambda i: i.answer(CONFIG_PATH, status=404, body=b"no"), "404"),
    ("discovery-bad-json", lambda i: i.answer(CONFIG_PATH, body=b'{"issuer": '), "json"),
    ("discovery-not-an-object", lambda i: i.answer(CONFIG_PATH, body=b'["x"]'), "json"),
    ("discovery-without-jwks-uri",
     lambda i: i.answer(CONFIG_PATH, body=_doc(i, jwks_uri=None)), "jwks_uri"),
    ("jwks-uri-https", lambda i: i.answer(CONFIG_PATH, body=_doc(
        i, jwks_uri=f"https://127.0.0.1:{i.port}{JWKS_PATH}")), "https://"),
    ("jwks-500", lambda i: i.answer(JWKS_PATH, status=500), "500"),
    ("jwks-bad-json", lambda i: i.answer(JWKS_PATH, body=b'{"keys": ['), "json"),
    ("jwks-over-1-mib", lambda i: i.answer(
        JWKS_PATH, body=b'{"keys": [], "pad": "' + b"x" * (2 << 20) + b'"}'), JWKS_PATH),
]


@pytest.mark.parametrize("case,spoil,cause", STARTUP_FAILURES,
                         ids=[c for c, _, _ in STARTUP_FAILURES])
def test_provider_failure_stops_start_up(case, spoil, cause, tmp_path):
    with jwt_issuer.Issuer(function=FUNCTION, keys=("rsa",)) as issuer:
        spoil(issuer)
        rc, out = run_to_exit(auth_env(issuer, fprocess="cat"), tmp_path)
    assert rc == 1, out
    line = next((x for x in out.splitlines() if "Function authentication cannot start:" in x), "")
    assert line and cause.lower() in line.lower(), out
    assert "Listening on port" not in out, out
    assert not (tmp_path / ".lock").exists()


def test_a_provider_that_never_answers_stops_start_up_after_10_s(tmp_path):
    with jwt_issuer.Issuer(function=FUNCTION, keys=("rsa",)) as issuer:
        issuer.answer(JWKS_PATH, delay=60)
        began = time.monotonic()
        rc, out = run_to_exit(auth_env(issuer, fprocess="cat"), tmp_path, timeout=30)
        took = time.monotonic() - began
    assert rc == 1, out
    assert "Function authentication cannot start:" in out, out
    assert 9 <= took < 20, (took, out)


def test_unreachable_provider_stops_start_up(tmp_path):
    env = {"jwt_auth": "true", "jwt_auth_issuer_url": f"http://127.0.0.1:{harness.free_port()}",
           "OPENFAAS_NAME": NAME, "OPENFAAS_NAMESPACE": NAMESPACE, "fprocess": "cat"}
    rc, out = run_to_exit(env, tmp_path)
    assert rc == 1, out
    assert "Function authentication cannot start:" in out, out
    assert env["jwt_auth_issuer_url"][len("http://"):] in out, out
    assert not (tmp_path / ".lock").exists()


@pytest.mark.skipif(harness.LIBCRYPTO_LINKED, reason="the binary links libcrypto")
def test_libcrypto_that_cannot_be_loaded_stops_start_up(tmp_path):
    env = {"jwt_auth": "true", "jwt_auth_issuer_url": f"http://127.0.0.1:{harness.free_port()}",
           "OPENFAAS_NAME": NAME, "OPENFAAS_NAMESPACE": NAMESPACE, "fprocess": "cat"}
    env.update(harness.unloadable_libcrypto(tmp_path / "libs"))
    rc, out = run_to_exit(env, tmp_path)
    assert rc == 1, out
    line = next((x for x in out.splitlines() if "Function authentication cannot start:" in x), "")
    assert "jwt_auth" in line and "cannot load libcrypto.so.3" in line, out
    assert "Listening on port" not in out, out
    assert not (tmp_path / ".lock").exists()


def test_https_provider_address_stops_start_up(tmp_path):
    env = {"jwt_auth": "1", "jwt_auth_issuer_url": "https://127.0.0.1:1",
           "OPENFAAS_NAME": NAME, "OPENFAAS_NAMESPACE": NAMESPACE, "fprocess": "cat"}
    rc, out = run_to_exit(env, tmp_path)
    assert rc == 1, out
    assert "Function authentication cannot start:" in out or "Error loading config" in out, out


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_function_name_is_required(value, tmp_path):
    with jwt_issuer.Issuer(function=FUNCTION, keys=("rsa",)) as issuer:
        env = auth_env(issuer, fprocess="cat")
        if value is None:
            del env["OPENFAAS_NAME"]
        else:
            env["OPENFAAS_NAME"] = value
        rc, out = run_to_exit(env, tmp_path)
        assert issuer.count(CONFIG_PATH) == 0
    assert rc == 1, out
    assert "Error loading config: " in out and "OPENFAAS_NAME" in out, out


@pytest.mark.skipif(os.path.exists("/var/run/secrets/kubernetes.io/serviceaccount/namespace"),
                    reason="this machine has a service account's namespace file")
def test_namespace_is_required(tmp_path):
    with jwt_issuer.Issuer(function=FUNCTION, keys=("rsa",)) as issuer:
        env = auth_env(issuer, fprocess="cat")
        del env["OPENFAAS_NAMESPACE"]
        rc, out = run_to_exit(env, tmp_path)
    assert rc == 1, out
    assert "OPENFAAS_NAMESPACE" in out, out


# --- every mode runs behind it ----------------------------------------------------------------

TOOL = os.path.join(harness.FIXTURES_BUILD, "wasm_mode", "tool.wasm")
HANDLERS = os.path.join(harness.FIXTURES, "python")
RECORDER = ('printf "%s\\n" "$Http_X_Case" >> "$0"; '
            'printf "auth=%s\\n" "$Http_X_Auth_Seconds"')


def fork_mode(mode):
    def setup(start_watchdog, issuer, tmp_path):
        runs = tmp_path / "runs"
        runs.write_text("")
        wd = start(start_watchdog, auth_env(issuer, mode=mode, content_type="text/plain",
                                            fprocess=json.dumps(["sh", "-c", RECORDER,
                                                                 str(runs)])))

        def check_ok(r):
            m = re.match(rb"^auth=(\S+)\n$", r.body)
            assert m and AUTH_SECONDS.match(m.group(1).decode()), r
            assert ran_file(runs, "allowed")

        def check_not_run():
            assert not ran_file(runs, "denied")
        return wd, {"path": "/fn"}, check_ok, {"path": "/fn"}, check_not_run
    return setup


def ran_file(runs, case):
    return case in runs.read_text().split("\n")


def http_mode(start_watchdog, issuer, tmp_path):
    port = harness.free_port()
    wd = start(start_watchdog, auth_env(
        issuer, mode="http", upstream_url=f"http://127.0.0.1:{port}",
        fprocess=f"{PY} {harness.fixture('http_upstream.py')} {port}"))
    wd.wait_for_log(r"listening on \d+", stream="stdout")

    def check_ok(r):
        headers = {k.lower(): v for k, v in json.loads(r.body)["headers"]}
        assert AUTH_SECONDS.match(headers.get("x-auth-seconds", "")), headers

    def check_not_run():
        # Had the upstream been given /exit, it would have exited, and the watchdog with it.
        r = call(wd, "Bearer " + issuer.mint("rsa"), "allowed", method="GET", path="/echo")
        assert r.status == 200, r
        assert wd.proc.poll() is None
        assert not any("Forked function has terminated" in line for line in wd.lines())
    return wd, {"method": "GET", "path": "/echo"}, check_ok, \
        {"method": "GET", "path": "/exit?code=3"}, check_not_run


def static_mode(start_watchdog, issuer, tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "hello.txt").write_bytes(b"hello behind a token\n")
    wd = start(start_watchdog, auth_env(issuer, mode="static", static_path=str(root)))

    def check_ok(r):
        assert r.body == b"hello behind a token\n", r
    return wd, {"method": "GET", "path": "/hello.txt"}, check_ok, \
        {"method": "GET", "path": "/hello.txt"}, lambda: None


def wasm_mode(start_watchdog, issuer, tmp_path):
    if not os.path.exists(TOOL):
        pytest.skip("tool.wasm is not built")
    root = tmp_path / "wasm_root"
    (root / "bin").mkdir(parents=True)
    shutil.copy(TOOL, root / "bin" / "tool.wasm")
    wd = start(start_watchdog, auth_env(
        issuer, mode="wasm", fprocess="tool.wasm", wasm_root=str(root),
        wasm_cache=str(tmp_path / "cache"), wasm_engine="interpreter", content_type="text/plain"))

    def check_ok(r):
        env = dict(line.split("=", 1) for line in r.body.decode().splitlines() if "=" in line)
        assert AUTH_SECONDS.match(env.get("Http_X_Auth_Seconds", "")), r

    def check_not_run():
        # The denied request asked for stderr lines; the allowed one ran after it.
        assert not any("from the module" in line for line in wd.lines())
    return wd, {"path": "/fn", "headers": {"X-Action": "env"}}, check_ok, \
        {"path": "/fn", "headers": {"X-Action": "stderr"}}, check_not_run


def python_mode(start_watchdog, issuer, tmp_path):
    if not harness.PYTHON_BIN or not os.path.exists(harness.PYTHON_BIN):
        pytest.skip("fwatchdog-python is built only with libpython3.11-dev")
    directory = tmp_path / "inproc"
    (directory / "function").mkdir(parents=True)
    shutil.copy(os.path.join(HANDLERS, "function", "handler.py"),
                directory / "function" / "handler.py")
    env = auth_env(issuer, healthcheck_interval="0")
    if harness.SANITIZED:
        env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"
    wd = start(start_watchdog, env, binary=harness.PYTHON_BIN,
               popen_options={"cwd": str(directory)})

    def check_ok(r):
        assert r.body == b"POST /fn 0", r
    return wd, {"path": "/fn"}, check_ok, {"path": "/fn"}, lambda: None


MODES = {
    "streaming": fork_mode("streaming"),
    "serializing": fork_mode("serializing"),
    "http": http_mode,
    "static": static_mode,
    "wasm": wasm_mode,
    "python-inproc": python_mode,
}


@pytest.mark.parametrize("mode", list(MODES))
def test_every_mode_runs_behind_it(mode, start_watchdog, issuer, tmp_path):
    wd, allowed, check_ok, denied, check_not_run = MODES[mode](start_watchdog, issuer, tmp_path)
    wd.wait_for_log(r"JWT Auth: true")
    assert_unauthorized(call(wd, None, "denied", **denied), BEARER_MISSING)
    assert_unauthorized(call(wd, "Bearer " + issuer.mint_bad_signature("ec"), "denied",
                             **denied))
    r = call(wd, "Bearer " + issuer.mint("ed"), "allowed", **allowed)
    assert r.status == 200, r
    check_ok(r)
    check_not_run()
    assert request(wd.port, "GET", "/_/health").status == 200
