// The original's content sniffing (Go's DetectContentType), row by row of its table.

#include <catch2/catch.hpp>

#include <string>

#include "http/content_sniff.hpp"

using ofwatchdog::http::sniff_content_type;
using namespace std::string_literals;

TEST_CASE("HTML: a known tag after white space, ended by a space or >", "[http][sniff]") {
  CHECK(sniff_content_type("<html>") == "text/html; charset=utf-8");
  CHECK(sniff_content_type(" \t\r\n\x0c<HtMl lang=en>") == "text/html; charset=utf-8");
  CHECK(sniff_content_type("<!doctype HTML>") == "text/html; charset=utf-8");
  CHECK(sniff_content_type("<p>hi</p>") == "text/html; charset=utf-8");
  CHECK(sniff_content_type("<a href=x>") == "text/html; charset=utf-8");
  CHECK(sniff_content_type("<!-- c -->") == "text/html; charset=utf-8");
  CHECK(sniff_content_type("<br>") == "text/html; charset=utf-8");
  CHECK(sniff_content_type("<htmlx>") == "text/plain; charset=utf-8");
  CHECK(sniff_content_type("<html") == "text/plain; charset=utf-8"); // nothing ends the tag
  CHECK(sniff_content_type("x<html>") == "text/plain; charset=utf-8");
}

TEST_CASE("XML, PDF, PostScript and byte-order marks", "[http][sniff]") {
  CHECK(sniff_content_type("  <?xml version=\"1.0\"?>") == "text/xml; charset=utf-8");
  CHECK(sniff_content_type("%PDF-1.7") == "application/pdf");
  CHECK(sniff_content_type("%!PS-Adobe-3.0") == "application/postscript");
  CHECK(sniff_content_type("\xFE\xFF\x00h"s) == "text/plain; charset=utf-16be");
  CHECK(sniff_content_type("\xFF\xFEh\x00"s) == "text/plain; charset=utf-16le");
  CHECK(sniff_content_type("\xEF\xBB\xBFtext") == "text/plain; charset=utf-8");
  CHECK(sniff_content_type("\xFF\xFE") == "text/plain; charset=utf-8"); // too short for a BOM
}

TEST_CASE("images, audio and video", "[http][sniff]") {
  CHECK(sniff_content_type("\x00\x00\x01\x00\x01\x00"s) == "image/x-icon");
  CHECK(sniff_content_type("BM\x01\x02"s) == "image/bmp");
  CHECK(sniff_content_type("GIF89a...") == "image/gif");
  CHECK(sniff_content_type("GIF87a...") == "image/gif");
  CHECK(sniff_content_type("RIFF\x01\x02\x03\x04WEBPVP8 "s) == "image/webp");
  CHECK(sniff_content_type("\x89PNG\r\n\x1A\n...") == "image/png");
  CHECK(sniff_content_type("\xFF\xD8\xFF\xE0") == "image/jpeg");
  CHECK(sniff_content_type("FORM\x00\x00\x00\x10"
                           "AIFF"s) == "audio/aiff");
  CHECK(sniff_content_type("ID3\x04") == "audio/mpeg");
  CHECK(sniff_content_type("OggS\x00\x02"s) == "application/ogg");
  CHECK(sniff_content_type("MThd\x00\x00\x00\x06\x00\x01"s) == "audio/midi");
  CHECK(sniff_content_type("RIFF\x00\x00\x00\x00"
                           "AVI LIST"s) == "video/avi");
  CHECK(sniff_content_type("RIFF\x00\x00\x00\x00"
                           "WAVEfmt "s) == "audio/wave");
  CHECK(sniff_content_type("\x1A\x45\xDF\xA3\x01"s) == "video/webm");
  // An ftyp box of 24 bytes whose compatible brands include mp42.
  std::string mp4 = "\x00\x00\x00\x18"
                    "ftypisom\x00\x00\x02\x00"
                    "iso2mp41"s;
  CHECK(sniff_content_type(mp4) == "video/mp4");
  std::string not_mp4 = "\x00\x00\x00\x18"
                        "ftypisom\x00\x00\x02\x00"
                        "iso2avc1"s;
  CHECK(sniff_content_type(not_mp4) == "application/octet-stream");
  // The brand in the minor-version slot does not count.
  std::string minor = "\x00\x00\x00\x10"
                      "ftypisommp41"s;
  CHECK(sniff_content_type(minor) == "application/octet-stream");
}

TEST_CASE("fonts, archives and wasm", "[http][sniff]") {
  std::string eot(34, '\x01');
  eot += "LP";
  CHECK(sniff_content_type(eot) == "application/vnd.ms-fontobject");
  CHECK(sniff_content_type("\x00\x01\x00\x00\x00"s) == "font/ttf");
  CHECK(sniff_content_type("OTTO\x00"s) == "font/otf");
  CHECK(sniff_content_type("ttcf\x00"s) == "font/collection");
  CHECK(sniff_content_type("wOFF\x00"s) == "font/woff");
  CHECK(sniff_content_type("wOF2\x00"s) == "font/woff2");
  CHECK(sniff_content_type("\x1F\x8B\x08\x00"s) == "application/x-gzip");
  CHECK(sniff_content_type("PK\x03\x04\x14"s) == "application/zip");
  CHECK(sniff_content_type("Rar!\x1A\x07\x00"s) == "application/x-rar-compressed");
  CHECK(sniff_content_type("Rar!\x1A\x07\x01\x00"s) == "application/x-rar-compressed");
  CHECK(sniff_content_type("\x00"
                           "asm\x01\x00\x00\x00"s) == "application/wasm");
}

TEST_CASE("text is anything without a binary control byte; only 512 bytes count", "[http][sniff]") {
  CHECK(sniff_content_type("") == "text/plain; charset=utf-8");
  CHECK(sniff_content_type("plain words\n") == "text/plain; charset=utf-8");
  CHECK(sniff_content_type("caf\xE9 latin-1") == "text/plain; charset=utf-8"); // not UTF-8: text
  CHECK(sniff_content_type("\x1B[1mbold") == "text/plain; charset=utf-8");     // ESC is text
  CHECK(sniff_content_type("a\x00"s) == "application/octet-stream");
  CHECK(sniff_content_type("a\x1F") == "application/octet-stream");
  CHECK(sniff_content_type(std::string(512, 'a') + '\x01') == "text/plain; charset=utf-8");
  CHECK(sniff_content_type(std::string(511, 'a') + '\x01') == "application/octet-stream");
}
