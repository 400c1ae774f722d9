// The Logger's deferred mode: lines held until a flush, the own lines never late.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "ofwatchdog/log.hpp"

namespace {

using ofwatchdog::AccessRecord;
using ofwatchdog::LogFormat;
using ofwatchdog::Logger;

// Everything written to `file` so far.
std::string contents(std::FILE* file) {
  std::fflush(file);
  std::string text;
  std::rewind(file);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, file)) > 0)
    text.append(buf, n);
  std::fseek(file, 0, SEEK_END);
  return text;
}

struct Files {
  std::FILE* err = std::tmpfile();
  std::FILE* out = std::tmpfile();
  ~Files() {
    std::fclose(err);
    std::fclose(out);
  }
};

} // namespace

TEST_CASE("a Logger writes every line at once unless deferred", "[log][logger]") {
  Files files;
  Logger log(LogFormat::text, false, files.err, files.out);
  log.relay("stdout", "one");
  CHECK(contents(files.out) == "one\n");
}

TEST_CASE("deferred relayed and access lines wait for flush", "[log][logger]") {
  Files files;
  Logger log(LogFormat::text, false, files.err, files.out);
  log.set_deferred(true);
  log.relay("stdout", "to stdout");
  log.relay("stderr", "to stderr");
  AccessRecord record;
  record.method = "GET";
  record.uri = "/x";
  record.status = "200";
  log.access(record);
  CHECK(contents(files.out).empty());
  CHECK(contents(files.err).empty());
  log.flush();
  CHECK(contents(files.out) == "to stdout\n");
  std::string err = contents(files.err);
  CHECK(err.find("to stderr\n") == 0);
  CHECK(err.find("GET /x - 200") != std::string::npos);
}

TEST_CASE("an own line is written at once, after the held lines", "[log][logger]") {
  Files files;
  Logger log(LogFormat::json, false, files.err, files.out);
  log.set_deferred(true);
  log.relay("stderr", "held");
  log.info("now");
  std::string err = contents(files.err);
  std::size_t held = err.find("\"msg\":\"held\"");
  std::size_t now = err.find("\"msg\":\"now\"");
  REQUIRE(held != std::string::npos);
  REQUIRE(now != std::string::npos);
  CHECK(held < now);
}

TEST_CASE("deferred lines are written once the limit is held", "[log][logger]") {
  Files files;
  Logger log(LogFormat::text, false, files.err, files.out);
  log.set_deferred(true);
  std::string line(1000, 'x');
  std::size_t lines = Logger::kDeferredLimit / (line.size() + 1) + 1;
  for (std::size_t i = 0; i < lines; ++i)
    log.relay("stdout", line);
  CHECK(contents(files.out).size() == lines * (line.size() + 1));
  log.relay("stdout", "tail");
  CHECK(contents(files.out).size() == lines * (line.size() + 1));
}

TEST_CASE("turning deferral off and destroying the Logger both flush", "[log][logger]") {
  Files files;
  {
    Logger log(LogFormat::text, false, files.err, files.out);
    log.set_deferred(true);
    log.relay("stdout", "a");
    log.set_deferred(false);
    CHECK(contents(files.out) == "a\n");
    log.set_deferred(true);
    log.relay("stdout", "b");
    CHECK(contents(files.out) == "a\n");
  }
  CHECK(contents(files.out) == "a\nb\n");
}

TEST_CASE("an access line prints its duration with four decimals", "[log][logger]") {
  struct Case {
    double seconds;
    const char* text;
  };
  // The integer path and fmt's {:.4f} print the same, the rounding of the fifth decimal too;
  // negative and huge values take fmt's path.
  for (Case c : {Case{0.0, "(0.0000s)"}, Case{0.00031, "(0.0003s)"}, Case{0.00036, "(0.0004s)"},
                 Case{1.23456, "(1.2346s)"}, Case{12.5, "(12.5000s)"}, Case{59.99996, "(60.0000s)"},
                 Case{-0.25, "(-0.2500s)"}, Case{3e12, "(3000000000000.0000s)"}}) {
    Files files;
    Logger log(LogFormat::text, false, files.err, files.out);
    AccessRecord record;
    record.method = "POST";
    record.uri = "/f?x=1";
    record.status = "200 OK";
    record.bytes_label = "ContentLength";
    record.bytes = 3;
    record.seconds = c.seconds;
    log.access(record);
    std::string line = contents(files.err);
    // "YYYY/MM/DD HH:MM:SS " then the record.
    REQUIRE(line.size() > 20);
    CHECK(line.substr(20) ==
          std::string("POST /f?x=1 - 200 OK - ContentLength: 3B ") + c.text + "\n");
  }
}
