"""Hostile request framings, as raw bytes, with the answer each must get.

Each case is a request-smuggling or denial-of-service shape (RFC 9112 §11.2; the transducer
bug classes a re-framing proxy must not pass on). `head` cases are refused before the request
reaches a mode; `body` cases are found in the chunked body or the trailers, after the head was
handed out. The tests in test_hostile_framing.py send each one to the server, to a fork mode and
to http mode with a recording upstream; tests/fuzz/ seeds its corpus from the same table.
"""

HOST = b"Host: t\r\n"


def post(headers, body=b"", target=b"/"):
    return b"POST " + target + b" HTTP/1.1\r\n" + HOST + headers + b"\r\n" + body


def chunked(body, target=b"/"):
    return post(b"Transfer-Encoding: chunked\r\n", body, target)


OK_BODY = b"3\r\nabc\r\n0\r\n\r\n"

# name: (raw request, expected status, where it is found)
REFUSED = {
    # Transfer codings: only a single `chunked` frames a body we can read.
    "te_gzip": (post(b"Transfer-Encoding: gzip\r\n", b"abc"), 501, "head"),
    "te_identity": (post(b"Transfer-Encoding: identity\r\n", b"abc"), 501, "head"),
    "te_chunkedx": (post(b"Transfer-Encoding: chunkedx\r\n", OK_BODY), 501, "head"),
    "te_gzip_then_chunked": (post(b"Transfer-Encoding: gzip, chunked\r\n", OK_BODY), 501, "head"),
    "te_chunked_with_parameter": (post(b"Transfer-Encoding: chunked;q=1\r\n", OK_BODY), 501, "head"),
    "te_leading_comma": (post(b"Transfer-Encoding: ,chunked\r\n", OK_BODY), 400, "head"),
    "te_chunked_twice": (post(b"Transfer-Encoding: chunked, chunked\r\n", OK_BODY), 400, "head"),
    # llhttp does not read `chunked` followed by a tab as chunked: refused before dispatch.
    "te_chunked_tab": (post(b"Transfer-Encoding: chunked\t\r\n", OK_BODY), 400, "head"),
    "te_chunked_upper_case_tab": (post(b"Transfer-Encoding: CHUNKED\t\r\n", OK_BODY), 400,
                                  "head"),
    "te_two_fields": (post(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", OK_BODY),
                      400, "head"),
    "te_empty": (post(b"Transfer-Encoding: \r\n", OK_BODY), 400, "head"),
    "te_in_http10": (b"POST / HTTP/1.0\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n" + OK_BODY,
                     400, "head"),
    "cl_and_te": (post(b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", OK_BODY), 400, "head"),
    "cl_and_unknown_te": (post(b"Content-Length: 3\r\nTransfer-Encoding: gzip\r\n", b"abc"), 400,
                          "head"),
    "te_and_cl": (post(b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", OK_BODY), 400, "head"),
    # Content-Length: one plain decimal number.
    "two_lengths": (post(b"Content-Length: 3\r\nContent-Length: 3\r\n", b"abc"), 400, "head"),
    "length_list": (post(b"Content-Length: 3, 3\r\n", b"abc"), 400, "head"),
    "signed_length": (post(b"Content-Length: +3\r\n", b"abc"), 400, "head"),
    "hex_length": (post(b"Content-Length: 0x3\r\n", b"abc"), 400, "head"),
    # Header lines.
    "obs_fold": (b"GET / HTTP/1.1\r\n" + HOST + b"X-A: a\r\n b\r\n\r\n", 400, "head"),
    "obs_fold_tab": (b"GET / HTTP/1.1\r\n" + HOST + b"X-A: a\r\n\tb\r\n\r\n", 400, "head"),
    "whitespace_before_first_field": (b"GET / HTTP/1.1\r\n Host: t\r\n\r\n", 400, "head"),
    "line_without_colon": (b"GET / HTTP/1.1\r\n" + HOST + b"X-A a\r\n\r\n", 400, "head"),
    "space_before_colon": (b"GET / HTTP/1.1\r\n" + HOST + b"X-A : a\r\n\r\n", 400, "head"),
    "nul_in_value": (b"GET / HTTP/1.1\r\n" + HOST + b"X-A: a\x00b\r\n\r\n", 400, "head"),
    "cr_in_value": (b"GET / HTTP/1.1\r\n" + HOST + b"X-A: a\rb\r\n\r\n", 400, "head"),
    "bare_lf_in_head": (b"GET / HTTP/1.1\r\nHost: t\nX-A: a\r\n\r\n", 400, "head"),
    "bare_lf_ends_head": (b"GET / HTTP/1.1\r\n" + HOST + b"\n", 400, "head"),
    "bare_lf_request_line": (b"GET / HTTP/1.1\n" + HOST + b"\r\n", 400, "head"),
    # Chunk sizes: plain hexadecimal digits, nothing before them, below 2^63.
    "chunk_size_plus": (chunked(b"+3\r\nabc\r\n0\r\n\r\n"), 400, "body"),
    "chunk_size_minus": (chunked(b"-3\r\nabc\r\n0\r\n\r\n"), 400, "body"),
    "chunk_size_0x": (chunked(b"0x3\r\nabc\r\n0\r\n\r\n"), 400, "body"),
    "chunk_size_leading_space": (chunked(b" 3\r\nabc\r\n0\r\n\r\n"), 400, "body"),
    "chunk_size_space_before_extension": (chunked(b"3 ;x\r\nabc\r\n0\r\n\r\n"), 400, "body"),
    "chunk_extension_bad_byte": (chunked(b"3;\x01\r\nabc\r\n0\r\n\r\n"), 400, "body"),
    "chunk_size_2_64": (chunked(b"10000000000000000\r\nabc\r\n0\r\n\r\n"), 400, "body"),
    "chunk_size_2_63": (chunked(b"8000000000000000\r\nabc\r\n0\r\n\r\n"), 400, "body"),
    # Chunk line ends.
    "chunk_data_without_crlf": (chunked(b"3\r\nabcX0\r\n\r\n"), 400, "body"),
    "chunk_data_two_bytes_instead_of_crlf": (chunked(b"3\r\nabcXX0\r\n\r\n"), 400, "body"),
    "chunk_data_longer_than_its_size": (chunked(b"3\r\nabcdef\r\n0\r\n\r\n"), 400, "body"),
    "chunk_bare_lf_everywhere": (chunked(b"3\nabc\n0\n\n"), 400, "body"),
    "chunk_size_bare_lf": (chunked(b"3\nabc\r\n0\r\n\r\n"), 400, "body"),
    "chunk_data_bare_lf": (chunked(b"3\r\nabc\n0\r\n\r\n"), 400, "body"),
    "last_chunk_bare_lf_end": (chunked(b"3\r\nabc\r\n0\r\n\n"), 400, "body"),
    "chunk_size_bare_cr": (chunked(b"3\rabc\r\n0\r\n\r\n"), 400, "body"),
    "chunk_size_cr_cr_lf": (chunked(b"3\r\r\nabc\r\n0\r\n\r\n"), 400, "body"),
    # Chunk extensions: at most 16 KiB in one request.
    "chunk_extension_20k": (chunked(b"3;" + b"a" * 20480 + b"\r\nabc\r\n0\r\n\r\n"), 400, "body"),
    "chunk_extensions_20k_in_pieces": (
        chunked(b"".join(b"1;" + b"e" * 1024 + b"\r\nx\r\n" for _ in range(20)) + b"0\r\n\r\n"),
        400, "body"),
    # Trailers: checked like header fields.
    "trailer_without_colon": (chunked(b"3\r\nabc\r\n0\r\nX-T 1\r\n\r\n"), 400, "body"),
    "trailer_obs_fold": (chunked(b"3\r\nabc\r\n0\r\nX-T: 1\r\n 2\r\n\r\n"), 400, "body"),
    "trailer_bare_lf": (chunked(b"3\r\nabc\r\n0\r\nX-T: 1\nX-U: 2\r\n\r\n"), 400, "body"),
    "trailer_bare_lf_end": (chunked(b"3\r\nabc\r\n0\r\nX-T: 1\r\n\n"), 400, "body"),
    "trailer_nul": (chunked(b"3\r\nabc\r\n0\r\nX-T: a\x00b\r\n\r\n"), 400, "body"),
}

# Heads the server answers itself (request line, method, Host). Their answers carry a reason
# after the status, given in REFUSAL_TEXT.
REFUSED.update({
    "connect": (b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", 501, "head"),
    "connect_with_origin_target": (b"CONNECT / HTTP/1.1\r\n" + HOST + b"\r\n", 501, "head"),
    "ice_protocol": (b"SOURCE / ICE/1.0\r\n" + HOST + b"\r\n", 400, "head"),
    "rtsp_protocol": (b"GET / RTSP/1.0\r\n" + HOST + b"\r\n", 400, "head"),
    "host_with_space": (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "head"),
    "host_with_bad_port": (b"GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n", 400, "head"),
    "host_with_userinfo": (b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400, "head"),
    "absolute_form_with_userinfo": (b"GET http://u@a.example/ HTTP/1.1\r\n" + HOST + b"\r\n",
                                    400, "head"),
    "absolute_form_other_scheme": (b"GET ftp://a.example/ HTTP/1.1\r\n" + HOST + b"\r\n", 400,
                                   "head"),
})

REFUSAL_TEXT = {
    "connect": b"501 Not Implemented: CONNECT is not supported",
    "connect_with_origin_target": b"501 Not Implemented: CONNECT is not supported",
    "host_with_space": b"400 Bad Request: malformed Host header",
    "host_with_bad_port": b"400 Bad Request: malformed Host header",
    "host_with_userinfo": b"400 Bad Request: malformed Host header",
    "absolute_form_with_userinfo": b"400 Bad Request: malformed authority in the request target",
    "absolute_form_other_scheme": b"400 Bad Request: unsupported scheme in the request target",
}

# The same shapes done right: each must be served, with `abc` as the body.
ACCEPTED = {
    "chunked": chunked(OK_BODY),
    "chunked_upper_case": post(b"Transfer-Encoding: CHUNKED\r\n", OK_BODY),
    "chunk_extension": chunked(b"3;flag;name=value\r\nabc\r\n0\r\n\r\n"),
    "chunk_extension_quoted": chunked(b'3;name="a b"\r\nabc\r\n0\r\n\r\n'),
    "chunk_extensions_under_16k": chunked(b"3;" + b"a" * 16000 + b"\r\nabc\r\n0\r\n\r\n"),
    "trailers": chunked(b"3\r\nabc\r\n0\r\nX-T: 1\r\nX-U: 2\r\n\r\n"),
    "content_length": post(b"Content-Length: 3\r\n", b"abc"),
    "leading_zeros_in_chunk_size": chunked(b"0003\r\nabc\r\n0\r\n\r\n"),
    "host_ipv6_with_port": b"POST / HTTP/1.1\r\nHost: [::1]:8080\r\nContent-Length: 3\r\n\r\nabc",
    "absolute_form": b"POST http://a.example/ HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc",
}

# A trailer section over the server's header limit (1 MiB + 4 KiB) is refused with 431.
def oversized_trailers(limit=(1 << 20) + 4096):
    line = b"X-T: " + b"t" * 1000 + b"\r\n"
    return chunked(b"3\r\nabc\r\n0\r\n" + line * (limit // len(line) + 2) + b"\r\n")
