// CgiHeadReader: the CGI response head a function prints before its body.
#include <catch2/catch.hpp>

#include "modes/cgi_head.hpp"

using ofwatchdog::HeaderList;
using ofwatchdog::modes::CgiHeadReader;
using State = CgiHeadReader::State;

namespace {

std::string pairs(const HeaderList& headers) {
  std::string out;
  for (const auto& h : headers)
    out += h.name + "=" + h.value + ";";
  return out;
}

// Feeds `output` in pieces of `piece` bytes; returns what came after the head.
std::string feed_in_pieces(CgiHeadReader& reader, std::string_view output, std::size_t piece) {
  std::string rest;
  while (!output.empty() && reader.state() != State::bad) {
    std::string_view part = output.substr(0, piece);
    output.remove_prefix(part.size());
    if (reader.state() == State::done)
      rest.append(part);
    else
      rest.append(reader.feed(part));
  }
  return rest;
}

} // namespace

TEST_CASE("a CGI head gives the status, the headers in order and the body after it", "[cgi_head]") {
  std::string output = "Status: 404 Not Found\r\nSet-Cookie: a=1\nSet-Cookie: b=2\r\n"
                       "X-Empty:\n\r\nthe body\nwith: a colon\n";
  for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{7}, output.size()}) {
    CgiHeadReader reader;
    std::string rest = feed_in_pieces(reader, output, piece);
    INFO("piece " << piece);
    REQUIRE(reader.state() == State::done);
    CHECK(reader.status() == 404);
    CHECK(pairs(reader.response_headers("text/plain")) ==
          "Content-Type=text/plain;Set-Cookie=a=1;Set-Cookie=b=2;X-Empty=;");
    CHECK(rest == "the body\nwith: a colon\n");
  }
}

TEST_CASE("Location without Status is a 302; Content-Type replaces the default", "[cgi_head]") {
  CgiHeadReader reader;
  CHECK(reader.feed("Location: /elsewhere\nContent-Type: text/html\n\n").empty());
  REQUIRE(reader.state() == State::done);
  CHECK(reader.status() == 302);
  CHECK(pairs(reader.response_headers("application/octet-stream")) ==
        "Location=/elsewhere;Content-Type=text/html;");
  CgiHeadReader with_status;
  with_status.feed("Status: 201\nLocation: /made\n\n");
  CHECK(with_status.status() == 201);
  CgiHeadReader bare;
  CHECK(bare.feed("\nbody") == "body");
  CHECK(bare.status() == 200);
}

TEST_CASE("a head that breaks a rule says which", "[cgi_head]") {
  struct Case {
    std::string output;
    std::string problem;
  };
  std::vector<Case> cases = {
      {"hello world\n\n", "line 1 is not a header field (Name: value)"},
      {"X-Ok: 1\nno colon here\n\n", "line 2 is not a header field (Name: value)"},
      {"Bad Name: x\n\n", "line 1 is not a header field (Name: value)"},
      {": x\n\n", "line 1 is not a header field (Name: value)"},
      {"X-A: 1\n folded\n\n", "line 2 continues the line before it (obsolete line folding)"},
      {"Status: 700\n\n", "Status 700 is outside 100-599"},
      {"Status: 99\n\n", "Status \"99\" is not a three-digit code with an optional reason"},
      {"Status: 103 Early\n\n", "Status 103 is not a final status (1xx)"},
      {"Status: 2000\n\n", "Status \"2000\" is not a three-digit code with an optional reason"},
      {"Status: OK\n\n", "Status \"OK\" is not a three-digit code with an optional reason"},
      {"Status: 200\nStatus: 404\n\n", "line 2 is a second Status"},
      {"Content-Length: 5\n\n", "Content-Length is the watchdog's to set, not the function's"},
      {"transfer-encoding: chunked\n\n",
       "transfer-encoding is the watchdog's to set, not the function's"},
      {"Connection: close\n\n", "Connection is the watchdog's to set, not the function's"},
      {"X-A: a\x01z\n\n", "the value of X-A (line 1) has a control character"},
  };
  for (const Case& c : cases) {
    CgiHeadReader reader;
    INFO(c.output);
    CHECK(reader.feed(c.output).empty());
    CHECK(reader.state() == State::bad);
    CHECK(reader.problem() == c.problem);
  }
}

TEST_CASE("the head is bounded, and the bound counts every byte of it", "[cgi_head]") {
  CgiHeadReader reader;
  std::string line = "X-Long: " + std::string(1000, 'v') + "\n";
  std::size_t fed = 0;
  while (reader.state() == State::reading && fed < 2 * CgiHeadReader::kMaxHeadBytes) {
    reader.feed(line);
    fed += line.size();
  }
  CHECK(reader.state() == State::bad);
  CHECK(fed <= CgiHeadReader::kMaxHeadBytes + line.size());
  CHECK(reader.problem() == "the head is longer than 65536 bytes, or has no empty line to end it");

  // One line with no end at all: refused at the bound, not held forever.
  CgiHeadReader endless;
  endless.feed(std::string(CgiHeadReader::kMaxHeadBytes, 'x'));
  CHECK(endless.state() == State::reading);
  endless.feed("x");
  CHECK(endless.state() == State::bad);

  // A head of exactly the bound, empty line included, is fine.
  CgiHeadReader exact;
  std::string head = "X-A: " + std::string(CgiHeadReader::kMaxHeadBytes - 7, 'a') + "\n\n";
  REQUIRE(head.size() == CgiHeadReader::kMaxHeadBytes);
  CHECK(exact.feed(head + "body") == "body");
  CHECK(exact.state() == State::done);
}

TEST_CASE("started says whether the function printed anything", "[cgi_head]") {
  CgiHeadReader reader;
  CHECK_FALSE(reader.started());
  reader.feed("");
  CHECK_FALSE(reader.started());
  reader.feed("X-A");
  CHECK(reader.started());
  CHECK(reader.state() == State::reading);
}
