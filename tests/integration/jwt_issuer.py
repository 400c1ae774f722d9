"""A local OpenID provider for the jwt_auth tests (tests/integration/test_jwt_auth.py).

`Issuer()` serves, on 127.0.0.1 and an ephemeral port, from a thread:
  /.well-known/openid-configuration   {"issuer": <issuer>, "jwks_uri": <base>/.well-known/jwks.json}
  /.well-known/jwks.json              the JWK Set (RFC 7517) of the keys it publishes
It counts the requests to each path (`count(path)`) and keeps their User-Agent headers, can
publish and withdraw keys while running, and can be told to answer a path badly (`answer`: a
status, a body, a delay) for the start-up failures.

`mint()` signs tokens with Debian's python3-jwt (PyJWT 2.6) and python3-cryptography; the tokens
PyJWT refuses to make (`alg: none`, HS256 keyed with the RSA public key's PEM, a flipped
signature byte) are put together by hand.

Keys are generated once per test session and shared by every Issuer (RSA generation is the
slow part); each Issuer publishes its own choice of them.
"""

import base64
import collections
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from jwt.algorithms import get_default_algorithms
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

CONFIG_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"

# name -> (kind, algorithm): the keys an Issuer publishes unless told otherwise. Each has its
# own key, so a JWK's `alg` always names the one algorithm its tokens use.
KEYS = {
    "rsa": ("rsa", "RS256"),
    "ps": ("rsa", "PS256"),
    "rsa512": ("rsa", "RS512"),
    "ec": ("ec256", "ES256"),
    "ec384": ("ec384", "ES384"),
    "ed": ("ed25519", "EdDSA"),
}

_generated = {}
_generated_lock = threading.Lock()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_bytes(value, length=None):
    length = length or max(1, (value.bit_length() + 7) // 8)
    return value.to_bytes(length, "big")


def private_key(kid, kind):
    """The private key named `kid` (generated on first use, then kept for the session)."""
    with _generated_lock:
        if kid not in _generated:
            if kind == "rsa":
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            elif kind == "ec256":
                key = ec.generate_private_key(ec.SECP256R1())
            elif kind == "ec384":
                key = ec.generate_private_key(ec.SECP384R1())
            elif kind == "ed25519":
                key = ed25519.Ed25519PrivateKey.generate()
            else:
                raise ValueError(f"unknown key kind {kind!r}")
            _generated[kid] = key
        return _generated[kid]


def jwk(kid, kind, alg):
    """The public JWK of a key, built from its public numbers (base64url, no padding)."""
    public = private_key(kid, kind).public_key()
    entry = {"kid": kid, "use": "sig", "alg": alg}
    if kind == "rsa":
        numbers = public.public_numbers()
        entry.update(kty="RSA", n=b64url(_int_bytes(numbers.n)), e=b64url(_int_bytes(numbers.e)))
    elif kind in ("ec256", "ec384"):
        numbers = public.public_numbers()
        size = 32 if kind == "ec256" else 48
        entry.update(kty="EC", crv="P-256" if kind == "ec256" else "P-384",
                     x=b64url(_int_bytes(numbers.x, size)), y=b64url(_int_bytes(numbers.y, size)))
    else:
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        entry.update(kty="OKP", crv="Ed25519", x=b64url(raw))
    return entry


class Key:
    def __init__(self, name, kid, kind, alg):
        self.name, self.kid, self.kind, self.alg = name, kid, kind, alg

    @property
    def private(self):
        return private_key(self.kid, self.kind)

    def public_pem(self):
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def jwk(self):
        return jwk(self.kid, self.kind, self.alg)


class Issuer:
    """One OpenID provider on 127.0.0.1:<ephemeral>. `issuer` is the `issuer` member of its
    discovery document (default: its own base address); `function` is the `namespace:name`
    that minted tokens are allowed to call by default."""

    def __init__(self, issuer=None, function="openfaas-fn:jwt-echo", keys=("rsa", "ec", "ed")):
        self.function = function
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._counts = collections.Counter()
        self.user_agents = []
        self._answers = {}  # path -> (status, body, delay)
        self._keys = {}  # name -> Key
        self._published = []  # names, in order
        for name in keys:
            self.add_key(name)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def do_GET(self):
                owner._serve(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.issuer = issuer or self.base
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    # --- serving ------------------------------------------------------------------------------
    def _serve(self, handler):
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self._counts[path] += 1
            self.user_agents.append(handler.headers.get("User-Agent"))
            answer = self._answers.get(path)
        status, body, delay = answer if answer else (None, None, 0)
        if delay and self._closing.wait(delay):
            return  # closed while holding the answer back
        if status is None:
            if path == CONFIG_PATH:
                status, body = 200, json.dumps(self.discovery()).encode()
            elif path == JWKS_PATH:
                status, body = 200, json.dumps(self.jwks()).encode()
            else:
                status, body = 404, b"not found\n"
        elif body is None:
            body = b"{}"
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.send_header("Connection", "close")
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            pass  # the watchdog gave up (size cap, timeout)
        handler.close_connection = True

    def discovery(self):
        return {"issuer": self.issuer, "jwks_uri": self.base + JWKS_PATH}

    def jwks(self):
        with self._lock:
            return {"keys": [self._keys[name].jwk() for name in self._published]}

    def answer(self, path, status=None, body=None, delay=0.0):
        """Makes `path` answer `status` with `body` (bytes) after `delay` seconds; status None
        and body None: the normal answer, only delayed."""
        with self._lock:
            if status is None and body is not None:
                status = 200
            self._answers[path] = (status, body, delay)

    def count(self, path):
        with self._lock:
            return self._counts[path]

    def close(self):
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- keys ---------------------------------------------------------------------------------
    def add_key(self, name, kind=None, alg=None, publish=True):
        """Adds key `name` (one of KEYS, or any name with kind and alg given); returns it."""
        if kind is None:
            kind, alg = KEYS[name]
        key = Key(name, f"{name}-{alg.lower()}-kid", kind, alg)
        key.private  # generated now, not while a request waits
        with self._lock:
            self._keys[name] = key
            if publish and name not in self._published:
                self._published.append(name)
        return key

    def remove_key(self, name):
        """Withdraws key `name` from the JWK Set (it can still sign tokens)."""
        with self._lock:
            if name in self._published:
                self._published.remove(name)

    def key(self, name):
        with self._lock:
            return self._keys[name]

    # --- tokens -------------------------------------------------------------------------------
    def claims(self, **overrides):
        """The claims of a good token; an override of None removes that claim."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.issuer,
            "sub": "tester",
            "iat": now,
            "nbf": now - 5,
            "exp": now + 600,
            "function": {"permissions": [self.function], "audience": [self.function]},
        }
        for name, value in overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def mint(self, key="rsa", claims=None, headers=None):
        """A token signed with key `key`: `claims` override those of `claims()` (None removes
        one), `headers` the JWS header (`kid` included; a `kid` of None removes it)."""
        k = self.key(key)
        header = {"kid": k.kid}
        header.update(headers or {})
        if header.get("kid") is None:
            header.pop("kid")
        payload = self.claims(**(claims or {}))
        if "alg" in header:
            # PyJWT would sign with the algorithm the header names.
            return self._sign_by_hand(k, header, payload)
        return jwt.encode(payload, k.private, algorithm=k.alg, headers=header)

    def _sign_by_hand(self, k, header, payload):
        """Signs with the key's own algorithm whatever `alg` the header states."""
        full = {"typ": "JWT"}
        full.update(header)
        signing_input = f"{_segment(full)}.{_segment(payload)}".encode("ascii")
        algorithm = get_default_algorithms()[k.alg]
        signature = algorithm.sign(signing_input, algorithm.prepare_key(k.private))
        return f"{signing_input.decode()}.{b64url(signature)}"

    # --- crafted bad tokens -------------------------------------------------------------------
    def mint_none(self, key="rsa", claims=None):
        """`alg: none` with an empty signature, naming a published kid."""
        header = {"alg": "none", "typ": "JWT", "kid": self.key(key).kid}
        return f"{_segment(header)}.{_segment(self.claims(**(claims or {})))}."

    def mint_hs256_public(self, key="rsa", claims=None):
        """HS256 keyed with the RSA public key's PEM (the algorithm-confusion attack), naming
        that key's kid. PyJWT refuses to use a PEM as an HMAC secret, so it is done by hand."""
        k = self.key(key)
        header = {"alg": "HS256", "typ": "JWT", "kid": k.kid}
        signing_input = f"{_segment(header)}.{_segment(self.claims(**(claims or {})))}"
        mac = hmac.new(k.public_pem(), signing_input.encode("ascii"), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(mac)}"

    def mint_bad_signature(self, key="rsa", claims=None):
        """A good token with one byte of its signature flipped."""
        head, payload, signature = self.mint(key, claims).split(".")
        raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
        raw[len(raw) // 2] ^= 0x01
        return f"{head}.{payload}.{b64url(bytes(raw))}"

    def mint_unknown_kid(self, key="rsa", claims=None):
        """Signed with a published key, but naming a kid the set does not have."""
        return self.mint(key, claims, headers={"kid": "no-such-kid"})


def _segment(document):
    return b64url(json.dumps(document, separators=(",", ":")).encode())
