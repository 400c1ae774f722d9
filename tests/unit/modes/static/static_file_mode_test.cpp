// The static mode end to end on a real loop, with real files and a fake exchange.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "../../test_files.hpp"
#include "../mode_harness.hpp"
#include "modes/static/static_file_mode.hpp"
#include "ofwatchdog/log.hpp"

using namespace ofwatchdog;
using ofwatchdog::testing::FakeExchange;
using ofwatchdog::testing::make_request;
using ofwatchdog::testing::ModeHarness;
using ofwatchdog::testing::read_all;
using ofwatchdog::testing::TestLoop;

namespace {

using ofwatchdog::testing::open_fd_count;
using ofwatchdog::testing::TempDir;
using ofwatchdog::testing::write_file;

// A temporary tree: <base>/www is the root, <base>/secret lies outside it.
struct Tree : TempDir {
  Tree() : TempDir("static") {
    root = base + "/www";
    REQUIRE(mkdir(root.c_str(), 0755) == 0);
    REQUIRE(mkdir((root + "/docs").c_str(), 0755) == 0);
    write_file(root + "/hello.txt", "hello, world\n");
    write_file(base + "/secret", "top secret\n");
    REQUIRE(symlink((base + "/secret").c_str(), (root + "/escape").c_str()) == 0);
    REQUIRE(symlink((root + "/hello.txt").c_str(), (root + "/inside").c_str()) == 0);
  }

  std::string root;
};

// The static mode on its own loop, serving `root` once started.
struct Harness : ModeHarness<modes::StaticFileMode> {
  explicit Harness(std::string root) { config.static_path = std::move(root); }

  std::shared_ptr<FakeExchange> get(std::string path, HeaderList headers = {}) {
    return serve_and_wait(make_request("GET", std::move(path), std::move(headers)));
  }
};

// A fake that also takes send_file, as the server's exchanges do. The test plays the
// connection: it "sends" part of the range itself (pread) and then reports the outcome.
class FileFake : public FakeExchange {
public:
  using FakeExchange::FakeExchange;
  bool send_file(int fd, std::uint64_t offset, std::uint64_t length,
                 TransferDone on_sent) override {
    if (!head_sent() || done() || file_done)
      return false;
    file_fd = fd;
    file_offset = offset;
    file_length = length;
    file_done = std::move(on_sent);
    return true;
  }
  // Appends `count` bytes of the file as if sent, then reports `status`.
  void complete(int status, std::uint64_t count) {
    std::string bytes(count, '\0');
    REQUIRE(::pread(file_fd, bytes.data(), count, static_cast<off_t>(file_offset)) ==
            static_cast<ssize_t>(count));
    body += bytes;
    TransferDone done = std::move(file_done);
    file_done = nullptr;
    done(status, count);
  }
  uv_file file_fd = -1;
  std::uint64_t file_offset = 0;
  std::uint64_t file_length = 0;
  TransferDone file_done;
};

} // namespace

TEST_CASE("static mode: a large range goes to the server's sendfile, small ones are read",
          "[static][sendfile]") {
  Tree tree;
  std::string content;
  for (int i = 0; content.size() < 300'000; ++i)
    content += std::to_string(i) + ";";
  write_file(tree.root + "/big.csv", content);
  Harness h(tree.root);
  h.start();
  int fds_before = open_fd_count();

  SECTION("all sent by the server") {
    auto ex = h.serve<FileFake>(make_request("GET", "/big.csv", {{"Range", "bytes=1000-"}}));
    h.loop.run_until([&] { return ex->file_done != nullptr; });
    CHECK(ex->file_offset == 1000);
    CHECK(ex->file_length == content.size() - 1000);
    CHECK(ex->body.empty()); // nothing through send_body
    ex->complete(0, ex->file_length);
    h.loop.run_until([&] { return ex->done(); });
    CHECK(ex->finished);
    CHECK(ex->status() == 206);
    CHECK(ex->body == content.substr(1000));
  }
  SECTION("sendfile unsupported after a part: the rest is read from where it stopped") {
    auto ex = h.serve<FileFake>(make_request("GET", "/big.csv"));
    h.loop.run_until([&] { return ex->file_done != nullptr; });
    ex->complete(Exchange::kTransferUnsupported, 12345);
    h.loop.run_until([&] { return ex->done(); });
    CHECK(ex->finished);
    CHECK(ex->body == content);
  }
  SECTION("a file error aborts the response") {
    auto ex = h.serve<FileFake>(make_request("GET", "/big.csv"));
    h.loop.run_until([&] { return ex->file_done != nullptr; });
    ex->complete(UV_EOF, 10);
    h.loop.run_until([&] { return ex->done(); });
    CHECK(ex->aborted);
  }
  SECTION("cancelled while the server sends: the file is released") {
    auto ex = h.serve<FileFake>(make_request("GET", "/big.csv"));
    h.loop.run_until([&] { return ex->file_done != nullptr; });
    ex->file_done = nullptr; // a cancelled transfer never reports
    ex->cancel(CancelReason::write_timeout);
  }
  SECTION("a range of one chunk or less is read and sent with send_body") {
    auto ex = h.serve<FileFake>(
        make_request("GET", "/big.csv", {{"Range", "bytes=10-65545"}})); // 65536 bytes
    h.loop.run_until([&] { return ex->done(); });
    CHECK(ex->file_fd == -1);
    CHECK(ex->body == content.substr(10, 65536));
  }
  h.finish();
  CHECK(open_fd_count() == fds_before);
}

TEST_CASE("static mode: start-up line, files, and symlinks checked against the root", "[static]") {
  Tree tree;
  Harness h(tree.root);
  h.start();
  CHECK(read_all(h.err).find("Serving files at: " + tree.root + "\n") != std::string::npos);

  auto ok = h.get("/hello.txt");
  REQUIRE(ok->head);
  CHECK(ok->head->status == 200);
  CHECK(ok->body == "hello, world\n");
  CHECK(ok->head->content_length == 13u);
  CHECK(*ok->response_header("Content-Type") == "text/plain; charset=utf-8");
  CHECK(*ok->response_header("Accept-Ranges") == "bytes");
  CHECK(ok->response_header("Last-Modified") != nullptr);

  auto out = h.get("/escape");
  CHECK(out->head->status == 404);
  CHECK(out->body == "404 page not found\n");

  auto in = h.get("/inside");
  CHECK(in->head->status == 200);
  CHECK(in->body == "hello, world\n");

  CHECK(h.get("/a\\b")->head->status == 404);
  CHECK(h.get("/missing")->head->status == 404);
  h.finish();
}

TEST_CASE("static mode: a missing root is a warning, then 404s", "[static]") {
  Tree tree;
  Harness h(tree.base + "/not-there");
  h.start();
  CHECK(read_all(h.err).find("Warning: static_path") != std::string::npos);
  auto ex = h.get("/");
  CHECK(ex->head->status == 404);
  h.finish();
}

TEST_CASE("static mode: a slow client gets the whole file in bounded chunks", "[static]") {
  Tree tree;
  std::string content;
  for (int i = 0; content.size() < 1'000'000; ++i)
    content += std::to_string(i) + ",";
  write_file(tree.root + "/big.csv", content);
  Harness h(tree.root);
  h.start();
  int fds_before = open_fd_count();
  auto ex = h.serve(make_request("GET", "/big.csv"));
  ex->set_slow_client(100'000);
  h.loop.run_until([&] { return ex->done(); });
  CHECK(ex->finished);
  CHECK(ex->body == content);
  CHECK(ex->stops >= 5); // it waited for on_writable rather than reading ahead
  h.finish();
  CHECK(open_fd_count() == fds_before);
}

TEST_CASE("static mode: a client that goes away mid-file releases the file", "[static]") {
  Tree tree;
  write_file(tree.root + "/big.bin", std::string(4'000'000, 'x'));
  Harness h(tree.root);
  h.start();
  int fds_before = open_fd_count();
  auto ex = h.serve(make_request("GET", "/big.bin"));
  ex->set_slow_client(64 * 1024);
  h.loop.run_until([&] { return ex->stops >= 2; });
  ex->cancel(CancelReason::client_closed);
  h.finish(); // returns only once the mode has nothing left on the loop
  CHECK(ex->body.size() < 4'000'000);
  CHECK(open_fd_count() == fds_before);
}

TEST_CASE("static mode: HEAD, ranges and conditions", "[static]") {
  Tree tree;
  Harness h(tree.root);
  h.start();
  auto head = h.serve(make_request("HEAD", "/hello.txt"));
  h.loop.run_until([&] { return head->done(); });
  CHECK(head->head->status == 200);
  CHECK(head->head->content_length == 13u);
  CHECK(head->body.empty());

  auto part = h.get("/hello.txt", {{"Range", "bytes=7-11"}});
  CHECK(part->head->status == 206);
  CHECK(part->body == "world");
  CHECK(*part->response_header("Content-Range") == "bytes 7-11/13");

  auto bad = h.get("/hello.txt", {{"Range", "bytes=20-"}});
  CHECK(bad->head->status == 416);
  CHECK(*bad->response_header("Content-Range") == "bytes */13");

  std::string modified = *part->response_header("Last-Modified");
  auto cached = h.get("/hello.txt", {{"If-Modified-Since", modified}});
  CHECK(cached->head->status == 304);
  CHECK(cached->body.empty());
  h.finish();
}

TEST_CASE("static mode: directories redirect, use index.html, or are listed", "[static]") {
  Tree tree;
  write_file(tree.root + "/docs/index.html", "<p>docs</p>");
  Harness h(tree.root);
  h.start();
  auto redirect = h.serve(make_request("GET", "/docs"));
  h.loop.run_until([&] { return redirect->done(); });
  CHECK(redirect->head->status == 301);
  CHECK(*redirect->response_header("Location") == "docs/");

  auto index = h.get("/docs/");
  CHECK(index->head->status == 200);
  CHECK(index->body == "<p>docs</p>");
  CHECK(*index->response_header("Content-Type") == "text/html; charset=utf-8");

  auto listing = h.get("/");
  CHECK(listing->head->status == 200);
  CHECK(listing->body == "<pre>\n<a href=\"docs/\">docs/</a>\n<a href=\"escape\">escape</a>\n"
                         "<a href=\"hello.txt\">hello.txt</a>\n<a href=\"inside\">inside</a>\n"
                         "</pre>\n");
  h.finish();
}
