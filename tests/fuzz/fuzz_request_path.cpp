// Fuzz target: the request path of the HTTP server, bytes in over a real loopback socket.
//
// The real `http::Server` (server.hpp) listens on 127.0.0.1; each input is written by a client
// socket on the same libuv loop. The request callback is a fake mode whose behaviour for a
// request comes from the last byte of its target (answer before or after the body, chunked or
// with a length, abort, a tunnel, a deferred answer, ...), so inputs steer the exchange through
// the paths real modes take. Once nothing moves any more the client half-closes, which the
// server takes as a close; the input ends when the server has closed the connection.
//
// Invariants, all from the contract in server.hpp (a broken one aborts, which libFuzzer reports):
// - the bytes the client receives parse as a clean stream of HTTP responses (strict llhttp);
// - response i answers request head i (the heads are found by feeding the same input to the
//   server's own RequestParser, which also runs ASan over the exact input buffer); a response
//   from the fake mode names the request it answers, so none is answered twice or out of order;
//   beyond the heads there is at most the server's own error answer, which says close;
// - nothing follows a response that said `Connection: close`;
// - a request is dispatched only after the previous exchange ended; every exchange ends, and
//   its on_done runs exactly once;
// - a handler hears nothing before set_handler, after on_cancel, or after its finish/abort; body
//   bytes never exceed Content-Length and on_body_end comes once (twice at most for a tunnel).
// The server is created once: tearing it down per input would only measure libuv's set-up.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <llhttp.h>
#include <uv.h>

#include "http/request_checks.hpp"
#include "http/request_parser.hpp"
#include "http/server.hpp"
#include "util/strings.hpp"

namespace {

using ofwatchdog::CancelReason;
using ofwatchdog::ExchangeHandler;
using ofwatchdog::iequals;
using ofwatchdog::ResponseHead;
using ofwatchdog::http::ServerExchange;

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "fuzz_request_path: invariant broken: %s\n", what);
  std::abort();
}

// True when a comma-separated header value lists `token` (case-insensitive).
bool contains_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (iequals(item, token)) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    list.remove_prefix(comma + 1);
  }
  return false;
}

// Inputs longer than this are ignored (run with -max_len=65536): the server reads at most
// 64 KiB ahead of its parser, and a longer input could hide the client's close behind it.
constexpr std::size_t kMaxInput = 64 * 1024;
// Loop turns without any event before the client half-closes.
constexpr int kQuietTurns = 16;
// Bounds the busy phase: a finite input cannot keep the server busy for this many turns.
constexpr long kMaxBusyTurns = 1'000'000;
// The server closes at once after a half-close; this only bounds a broken server.
constexpr std::uint64_t kCloseDeadlineMs = 5000;
constexpr std::string_view kIdHeader = "X-Fuzz-Id";

// Events anywhere (client, server, fake mode) count as progress; no progress for a while means
// the server waits for the client.
std::uint64_t progress = 0;

// Work the fake mode defers to a later loop turn, as modes waiting on a process do.
class Deferred {
public:
  explicit Deferred(uv_loop_t* loop) {
    uv_idle_init(loop, &idle_);
    idle_.data = this;
  }
  void push(std::function<void()> work) {
    queue_.push_back(std::move(work));
    uv_idle_start(&idle_, &Deferred::run);
  }
  bool pending() const { return !queue_.empty(); }

private:
  static void run(uv_idle_t* idle) {
    auto* self = static_cast<Deferred*>(idle->data);
    std::deque<std::function<void()>> batch = std::move(self->queue_);
    self->queue_.clear();
    uv_idle_stop(idle);
    for (auto& work : batch) {
      ++progress;
      work();
    }
  }
  uv_idle_t idle_{};
  std::deque<std::function<void()>> queue_;
};

enum class Behaviour {
  answer_first,     // a length-framed answer before any body byte
  echo_after_body,  // the body back, with its length, after the end
  chunked_echo,     // head first, the body streamed back chunked
  abort_at_once,    // abort before any head: the connection closes
  abort_mid_body,   // head with a length, part of the body, then abort
  bare_finish,      // finish() without a head after the body
  deferred_answer,  // the answer a loop turn after the end of the body
  close_unread,     // `Connection: close`, the body never read
  tunnel,           // 101 to an upgrade request, then the tunnel echoed
  pause_and_resume, // pause on every body piece, resume a turn later
  short_length,     // fewer bytes than the Content-Length announced
  never_answer,     // reads the body and waits: only the close ends it
  detach,           // set_handler(nullptr) at once: nothing delivered, no answer
  above_high_water, // a body larger than the high-water mark, finished on_writable
  kCount,
};

enum class Ending { open, finished, aborted, cancelled };

// One dispatched request: what the fake mode did with it and what the server did to it.
class FakeHandler : public ExchangeHandler {
public:
  FakeHandler(std::size_t id, std::shared_ptr<ServerExchange> exchange, Deferred& deferred)
      : id_(id), exchange_(std::move(exchange)), deferred_(deferred) {
    const std::string& target = exchange_->request().target;
    auto selector = static_cast<unsigned char>(target.empty() ? 0 : target.back());
    behaviour_ = static_cast<Behaviour>(selector % static_cast<unsigned>(Behaviour::kCount));
    exchange_->on_done([this](const ofwatchdog::Exchange&) {
      ++progress;
      ++done_calls_;
    });
  }

  void start() {
    switch (behaviour_) {
    case Behaviour::answer_first:
      attach();
      answer(200, "ok", true);
      return;
    case Behaviour::chunked_echo:
      attach();
      exchange_->send_head(head(200, false, 0));
      return;
    case Behaviour::abort_at_once:
      end_by_abort();
      return;
    case Behaviour::abort_mid_body:
      attach();
      exchange_->send_head(head(200, true, 1000));
      return;
    case Behaviour::close_unread: {
      ResponseHead close_head = head(200, true, 2);
      close_head.headers.push_back({"Connection", "close"});
      exchange_->send_head(std::move(close_head));
      exchange_->send_body("ok");
      end_by_finish();
      return;
    }
    case Behaviour::tunnel:
      attach();
      if (is_upgrade()) {
        ResponseHead switching{101, {{"Connection", "Upgrade"}, {"Upgrade", "fuzz"}}, {}};
        switching.headers.push_back({std::string(kIdHeader), std::to_string(id_)});
        exchange_->send_head(std::move(switching));
      } else {
        exchange_->send_head(head(200, false, 0));
      }
      return;
    case Behaviour::detach:
      exchange_->set_handler(nullptr);
      return;
    case Behaviour::above_high_water:
      attach();
      answer_big();
      return;
    default:
      attach();
      return;
    }
  }

  void on_body(std::string_view data) override {
    heard("on_body");
    if (data.empty()) {
      // Nothing to say, and a handler that pauses on every piece would spin on them
      // (corpus/request_path/empty-body-piece-spin).
      violated("an empty body piece");
    }
    if (body_ends_ > 0 && exchange_->status() != 101) {
      violated("body bytes after on_body_end outside a tunnel");
    }
    body_.append(data);
    const auto& length = exchange_->request().content_length;
    if (exchange_->status() != 101 && !exchange_->request().chunked && length &&
        body_.size() > *length) {
      violated("more body bytes than Content-Length");
    }
    switch (behaviour_) {
    case Behaviour::chunked_echo:
    case Behaviour::tunnel:
      exchange_->send_body(data);
      return;
    case Behaviour::abort_mid_body:
      exchange_->send_body(data.substr(0, data.size() / 2));
      end_by_abort();
      return;
    case Behaviour::pause_and_resume:
      exchange_->pause_body();
      deferred_.push([this] { exchange_->resume_body(); });
      return;
    default:
      return;
    }
  }

  void on_body_end() override {
    heard("on_body_end");
    ++body_ends_;
    bool tunnel = exchange_->status() == 101;
    if (body_ends_ > (tunnel ? 2 : 1)) {
      violated("on_body_end more than once");
    }
    const auto& request = exchange_->request();
    if (!tunnel && body_ends_ == 1 && !request.chunked && request.content_length &&
        body_.size() != *request.content_length) {
      violated("on_body_end before the whole Content-Length body");
    }
    switch (behaviour_) {
    case Behaviour::echo_after_body:
    case Behaviour::pause_and_resume:
      answer(200, body_, true);
      return;
    case Behaviour::chunked_echo:
    case Behaviour::abort_mid_body:
    case Behaviour::bare_finish:
      end_by_finish();
      return;
    case Behaviour::tunnel:
      // The 101 went out before the request ended, so this is the tunnel's end (the client's
      // half-close), or the request's own end when it was no upgrade.
      end_by_finish();
      return;
    case Behaviour::deferred_answer:
      deferred_.push([this] { answer(202, "later", true); });
      return;
    case Behaviour::short_length:
      exchange_->send_head(head(200, true, 10));
      exchange_->send_body("abc");
      end_by_finish();
      return;
    default:
      return;
    }
  }

  void on_writable() override {
    heard("on_writable");
    if (behaviour_ == Behaviour::above_high_water) {
      end_by_finish();
    }
  }

  void on_cancel(CancelReason) override {
    heard("on_cancel");
    ending_ = Ending::cancelled;
  }

  std::size_t id() const { return id_; }
  const ServerExchange& exchange() const { return *exchange_; }
  int done_calls() const { return done_calls_; }
  // The response may be cut short on the wire: abort, cancellation, or a finish short of the
  // Content-Length it announced (the server then closes instead).
  bool cut_short() const {
    return ending_ != Ending::finished ||
           (declared_length_ && exchange_->body_bytes_sent() < *declared_length_);
  }

private:
  void heard(const char* callback) {
    ++progress;
    if (!attached_) {
      std::fprintf(stderr, "%s before set_handler\n", callback);
      violated("handler callback before set_handler");
    }
    if (ending_ != Ending::open) {
      std::fprintf(stderr, "%s after the exchange ended\n", callback);
      violated("handler callback after on_cancel, finish or abort");
    }
  }
  void attach() {
    attached_ = true;
    exchange_->set_handler(this);
  }
  bool is_upgrade() const {
    // What llhttp takes as an upgrade: an Upgrade header named by Connection, on HTTP/1.1.
    const ofwatchdog::Request& request = exchange_->request();
    const std::string* connection = request.header("Connection");
    return request.header("Upgrade") != nullptr && connection != nullptr &&
           contains_token(*connection, "upgrade") && request.version_minor >= 1;
  }
  ResponseHead head(int status, bool with_length, std::uint64_t length) {
    ResponseHead response{status, {{std::string(kIdHeader), std::to_string(id_)}}, {}};
    if (with_length) {
      response.content_length = length;
      declared_length_ = length;
    }
    return response;
  }
  void answer(int status, std::string_view body, bool with_length) {
    if (ending_ != Ending::open) {
      return; // a deferred answer for an exchange that was cancelled meanwhile
    }
    exchange_->send_head(head(status, with_length, body.size()));
    exchange_->send_body(body);
    end_by_finish();
  }
  void answer_big() {
    // Above the server's high-water mark (256 KiB), so send_body says to wait for on_writable.
    constexpr std::size_t kBig = 260 * 1024;
    exchange_->send_head(head(200, true, kBig));
    if (exchange_->send_body(std::string(kBig, 'x'))) {
      end_by_finish(); // the socket took it all at once
    }
  }
  void end_by_finish() {
    ending_ = Ending::finished;
    exchange_->finish();
  }
  void end_by_abort() {
    ending_ = Ending::aborted;
    exchange_->abort();
  }

  std::size_t id_;
  std::shared_ptr<ServerExchange> exchange_;
  Deferred& deferred_;
  Behaviour behaviour_;
  Ending ending_ = Ending::open;
  bool attached_ = false;
  int body_ends_ = 0;
  int done_calls_ = 0;
  std::optional<std::uint64_t> declared_length_;
  std::string body_;
};

struct HeadSeen {
  std::string method;
  std::string target;
};

// The request heads in the input, in order, as the server's parser finds them.
std::vector<HeadSeen> heads_in(const std::uint8_t* data, std::size_t size) {
  ofwatchdog::http::RequestParser parser(ofwatchdog::http::ServerLimits{}.max_header_bytes);
  parser.set_body_sink([](std::string_view) {});
  std::vector<HeadSeen> heads;
  const char* at = reinterpret_cast<const char*>(data);
  std::size_t left = size;
  for (;;) {
    auto result = parser.feed(at, left);
    if (result.consumed > left) {
      violated("the request parser consumed more than it was given");
    }
    at += result.consumed;
    left -= result.consumed;
    if (result.status == ofwatchdog::http::RequestParser::Status::head_done) {
      ofwatchdog::Request request = parser.take_request();
      // The server's own checks run before dispatch and may rewrite the target (an
      // absolute-form target becomes the origin form): the handler sees what they leave.
      ofwatchdog::http::check_request(request);
      heads.push_back({request.method, request.target});
    } else if (result.status != ofwatchdog::http::RequestParser::Status::message_done ||
               parser.upgrade()) {
      return heads; // need_more, error, or the rest is not HTTP
    }
  }
}

// Parses what the client received and checks it against the heads and the handlers.
class ResponseStream {
public:
  ResponseStream(const std::vector<HeadSeen>& heads,
                 const std::vector<std::unique_ptr<FakeHandler>>& handlers)
      : heads_(heads), handlers_(handlers) {
    llhttp_settings_init(&settings_);
    settings_.on_header_field = [](llhttp_t* p, const char* at, std::size_t n) {
      return self(p)->on_field(at, n);
    };
    settings_.on_header_value = [](llhttp_t* p, const char* at, std::size_t n) {
      return self(p)->on_value(at, n);
    };
    settings_.on_header_value_complete = [](llhttp_t* p) { return self(p)->on_header(); };
    settings_.on_headers_complete = [](llhttp_t* p) { return self(p)->on_head(); };
    settings_.on_message_complete = [](llhttp_t* p) { return self(p)->on_complete(); };
    settings_.on_message_begin = [](llhttp_t* p) { return self(p)->on_begin(); };
    llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
    parser_.data = this;
  }

  void check(std::string_view bytes, bool reset) {
    const char* at = bytes.data();
    const char* end = at + bytes.size();
    while (at < end) {
      llhttp_errno_t err = llhttp_execute(&parser_, at, static_cast<std::size_t>(end - at));
      if (err == HPE_OK) {
        at = end;
      } else if (err == HPE_PAUSED) {
        at = llhttp_get_error_pos(&parser_);
        llhttp_resume(&parser_);
        if (close_said_ && at < end) {
          violated("bytes after a response that said Connection: close");
        }
      } else if (err == HPE_PAUSED_UPGRADE) {
        return; // after a 101 the rest is the tunnel
      } else {
        std::fprintf(stderr, "llhttp: %s\n", llhttp_get_error_reason(&parser_));
        violated("the response stream is not clean HTTP");
      }
    }
    // Between responses there is nothing to finish (and llhttp, paused at the end of the last
    // one, would not know that); inside one, only a close-delimited body ends at the close.
    // (on_complete pausing there is llhttp's way of saying the body ended cleanly.)
    llhttp_errno_t at_close = in_message_ ? llhttp_finish(&parser_) : HPE_OK;
    if (at_close != HPE_OK && at_close != HPE_PAUSED && !may_be_cut(reset)) {
      std::fprintf(stderr, "llhttp at the close: %s\n", llhttp_get_error_reason(&parser_));
      violated("a response the server completed ended early");
    }
  }

private:
  static ResponseStream* self(llhttp_t* parser) {
    return static_cast<ResponseStream*>(parser->data);
  }

  int on_begin() {
    in_message_ = true;
    field_.clear();
    value_.clear();
    id_ = -1;
    says_close_ = false;
    framed_ = false;
    return 0;
  }
  int on_field(const char* at, std::size_t n) {
    field_.append(at, n);
    return 0;
  }
  int on_value(const char* at, std::size_t n) {
    value_.append(at, n);
    return 0;
  }
  int on_header() {
    if (iequals(field_, kIdHeader)) {
      id_ = std::stol(value_);
    } else if (iequals(field_, "Connection") && contains_token(value_, "close")) {
      says_close_ = true;
    } else if (iequals(field_, "Content-Length") || iequals(field_, "Transfer-Encoding")) {
      framed_ = true;
    }
    field_.clear();
    value_.clear();
    return 0;
  }
  int on_head() {
    int status = parser_.status_code;
    if (status < 200 && status != 101) {
      if (id_ >= 0) {
        violated("an interim response from the mode");
      }
      return 0;
    }
    std::size_t index = finals_++;
    in_final_ = true;
    if (index > heads_.size()) {
      violated("more responses than requests (and one error answer)");
    }
    if (index == heads_.size()) {
      // Only the server's own answer to input it could not parse may go beyond the heads.
      if (id_ >= 0 || status < 400 || !says_close_) {
        violated("an answer beyond the parsed heads that is not the server's error");
      }
      return 0;
    }
    if (id_ >= 0) {
      auto id = static_cast<std::size_t>(id_);
      if (id >= handlers_.size() || (last_id_ >= 0 && id_ <= last_id_)) {
        violated("a response for a request not dispatched, or answered twice or out of order");
      }
      const ofwatchdog::Request& request = handlers_[id]->exchange().request();
      if (request.method != heads_[index].method || request.target != heads_[index].target) {
        violated("response i does not answer request head i");
      }
      last_id_ = id_;
    }
    // A HEAD response describes a body it does not carry (when it has a length; one without
    // is delimited by the close, which ends it either way).
    return heads_[index].method == "HEAD" && framed_ ? 1 : 0;
  }
  int on_complete() {
    in_message_ = false;
    if (!in_final_) {
      return 0;
    }
    in_final_ = false;
    close_said_ = says_close_;
    // After a 101 llhttp stops by itself (HPE_PAUSED_UPGRADE): the rest is the tunnel.
    return parser_.upgrade ? 0 : HPE_PAUSED; // lets check() see where the response ended
  }
  // An incomplete response at the close is fine when its exchange was cut short.
  bool may_be_cut(bool reset) const {
    if (reset) {
      return true;
    }
    if (in_final_ && id_ >= 0) {
      return handlers_[static_cast<std::size_t>(id_)]->cut_short();
    }
    for (const auto& handler : handlers_) {
      if (handler->cut_short()) {
        return true;
      }
    }
    return false;
  }

  const std::vector<HeadSeen>& heads_;
  const std::vector<std::unique_ptr<FakeHandler>>& handlers_;
  llhttp_settings_t settings_{};
  llhttp_t parser_{};
  std::string field_;
  std::string value_;
  long id_ = -1;
  long last_id_ = -1;
  bool says_close_ = false;
  bool framed_ = false;
  bool in_message_ = false;
  bool in_final_ = false;
  bool close_said_ = false;
  std::size_t finals_ = 0;
};

// The loopback client: writes the input, reads everything, half-closes when told.
class Client {
public:
  Client(uv_loop_t* loop, std::string input) : input_(std::move(input)) {
    uv_tcp_init(loop, &tcp_);
    tcp_.data = this;
  }

  void connect(int port) {
    struct sockaddr_in address {};
    uv_ip4_addr("127.0.0.1", port, &address);
    connect_.data = this;
    if (uv_tcp_connect(&connect_, &tcp_, reinterpret_cast<const sockaddr*>(&address),
                       &Client::on_connect) != 0) {
      violated("cannot connect to the server");
    }
  }
  void half_close() {
    if (!connected_ || shut_) {
      return;
    }
    shut_ = true;
    shutdown_.data = this;
    uv_shutdown(&shutdown_, reinterpret_cast<uv_stream_t*>(&tcp_),
                [](uv_shutdown_t*, int) { ++progress; });
  }
  void close() {
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_),
             [](uv_handle_t* handle) { static_cast<Client*>(handle->data)->closed_ = true; });
  }

  bool ended() const { return ended_; }
  bool closed() const { return closed_; }
  bool reset() const { return reset_; }
  const std::string& received() const { return received_; }

private:
  static void on_connect(uv_connect_t* request, int status) {
    auto* self = static_cast<Client*>(request->data);
    ++progress;
    if (status != 0) {
      violated("the connection to the server failed");
    }
    self->connected_ = true;
    auto* stream = reinterpret_cast<uv_stream_t*>(&self->tcp_);
    uv_read_start(stream, &Client::on_alloc, &Client::on_read);
    if (!self->input_.empty()) {
      uv_buf_t buffer =
          uv_buf_init(self->input_.data(), static_cast<unsigned>(self->input_.size()));
      self->write_.data = self;
      uv_write(&self->write_, stream, &buffer, 1, [](uv_write_t*, int) { ++progress; });
    }
  }
  static void on_alloc(uv_handle_t*, std::size_t, uv_buf_t* buffer) {
    static char bytes[64 * 1024];
    *buffer = uv_buf_init(bytes, sizeof(bytes));
  }
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buffer) {
    auto* self = static_cast<Client*>(stream->data);
    ++progress;
    if (nread > 0) {
      self->received_.append(buffer->base, static_cast<std::size_t>(nread));
    } else if (nread < 0) {
      self->ended_ = true;
      self->reset_ = nread != UV_EOF;
      uv_read_stop(stream);
    }
  }

  std::string input_;
  uv_tcp_t tcp_{};
  uv_connect_t connect_{};
  uv_write_t write_{};
  uv_shutdown_t shutdown_{};
  std::string received_;
  bool connected_ = false;
  bool shut_ = false;
  bool ended_ = false;
  bool reset_ = false;
  bool closed_ = false;
};

// The loop, the server and the fake mode, made once for the whole run.
class Harness {
public:
  Harness() : deferred_(initialised(&loop_)) {
    server_ = std::make_unique<ofwatchdog::http::Server>(
        &loop_, ofwatchdog::http::ServerLimits{},
        [this](std::shared_ptr<ServerExchange> exchange) { dispatch(std::move(exchange)); });
    if (server_->listen(0) != 0) {
      violated("the server cannot listen");
    }
    uv_timer_init(&loop_, &deadline_);
  }

  void run(const std::uint8_t* data, std::size_t size) {
    std::vector<HeadSeen> heads = heads_in(data, size);
    handlers_.clear();
    Client client(&loop_, std::string(reinterpret_cast<const char*>(data), size));
    client.connect(server_->port());

    // Until nothing moves: every request the server will take without more input is served.
    int quiet = 0;
    for (long turn = 0; quiet < kQuietTurns; ++turn) {
      if (turn > kMaxBusyTurns) {
        violated("the connection never came to rest");
      }
      std::uint64_t before = progress;
      uv_run(&loop_, UV_RUN_NOWAIT);
      quiet = progress == before && !deferred_.pending() ? quiet + 1 : 0;
    }
    client.half_close();
    // The server must now close; the timer only bounds a server that does not.
    uv_timer_start(
        &deadline_, [](uv_timer_t*) { violated("the server kept the connection after the close"); },
        kCloseDeadlineMs, 0);
    while (!client.ended() || server_->connection_count() != 0) {
      uv_run(&loop_, UV_RUN_ONCE);
    }
    uv_timer_stop(&deadline_);
    client.close();
    while (!client.closed()) {
      uv_run(&loop_, UV_RUN_ONCE);
    }

    for (const auto& handler : handlers_) {
      if (!handler->exchange().done() || handler->done_calls() != 1) {
        violated("an exchange did not end, or its on_done did not run exactly once");
      }
    }
    ResponseStream(heads, handlers_).check(client.received(), client.reset());
    handlers_.clear();
  }

private:
  static uv_loop_t* initialised(uv_loop_t* loop) {
    uv_loop_init(loop);
    return loop;
  }
  void dispatch(std::shared_ptr<ServerExchange> exchange) {
    ++progress;
    // Requests are served one at a time: the previous exchange has ended.
    for (const auto& handler : handlers_) {
      if (!handler->exchange().done()) {
        violated("a request was dispatched while the previous one was still open");
      }
    }
    handlers_.push_back(
        std::make_unique<FakeHandler>(handlers_.size(), std::move(exchange), deferred_));
    handlers_.back()->start();
  }

  uv_loop_t loop_{};
  Deferred deferred_;
  std::unique_ptr<ofwatchdog::http::Server> server_;
  uv_timer_t deadline_{};
  std::vector<std::unique_ptr<FakeHandler>> handlers_;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxInput) {
    return 0;
  }
  // Never destroyed: the loop and the listener live as long as the process.
  static Harness* harness = new Harness();
  harness->run(data, size);
  return 0;
}
