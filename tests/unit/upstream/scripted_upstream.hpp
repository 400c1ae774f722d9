#pragma once
// A tiny HTTP upstream for unit tests: a listener on 127.0.0.1:0 on the test's own loop that
// plays a script on each connection it accepts (the i-th script for the i-th connection) and
// records every byte it received. A script is a list of steps: wait until some text has
// arrived, send bytes, close. A connection whose script has run out just keeps reading; a peer
// that closes its side makes the upstream close too.
//
// Usage: `ScriptedUpstream up(loop, {{wait_for("\r\n\r\n"), send("HTTP/1.1 200 OK...")}});`,
// drive the code under test, then `up.stop()` and run the loop so every handle closes before
// the object goes.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

namespace ofwatchdog::testing {

struct ScriptStep {
  enum class Kind { wait_for, send, close };
  Kind kind;
  std::string data;
};
using Script = std::vector<ScriptStep>;

inline ScriptStep wait_for(std::string text) {
  return {ScriptStep::Kind::wait_for, std::move(text)};
}
inline ScriptStep send(std::string bytes) {
  return {ScriptStep::Kind::send, std::move(bytes)};
}
// Half-closes after the queued bytes are written, then closes: the peer sees a clean EOF.
inline ScriptStep close_connection() {
  return {ScriptStep::Kind::close, {}};
}

class ScriptedUpstream {
public:
  ScriptedUpstream(uv_loop_t* loop, std::vector<Script> scripts) : scripts_(std::move(scripts)) {
    uv_tcp_init(loop, &listener_);
    listener_.data = this;
    sockaddr_in address{};
    uv_ip4_addr("127.0.0.1", 0, &address);
    uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&address), 0);
    uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 16, [](uv_stream_t* server, int status) {
      if (status == 0)
        static_cast<ScriptedUpstream*>(server->data)->accept();
    });
    sockaddr_storage bound{};
    int len = sizeof(bound);
    uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &len);
    port = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  ScriptedUpstream(const ScriptedUpstream&) = delete;
  ScriptedUpstream& operator=(const ScriptedUpstream&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }

  // What connection `i` has received so far (empty if it was never accepted).
  std::string received(std::size_t i) const {
    return i < connections_.size() ? connections_[i]->received : std::string();
  }
  std::size_t accepted() const { return connections_.size(); }
  // Connections that are closed on both sides.
  std::size_t closed() const {
    std::size_t n = 0;
    for (const auto& c : connections_)
      n += c->closed ? 1 : 0;
    return n;
  }

  // Closes the listener and every connection still open.
  void stop() {
    if (!stopped_) {
      stopped_ = true;
      uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    }
    for (auto& c : connections_)
      close(*c);
  }

  int port = 0;

private:
  struct Connection {
    uv_tcp_t tcp{};
    uv_shutdown_t shutdown{};
    ScriptedUpstream* owner = nullptr;
    Script script;
    std::size_t step = 0;
    std::string received;
    std::size_t scan_from = 0;
    bool closing = false;
    bool closed = false;
    char buffer[16 * 1024];
  };
  struct Write {
    uv_write_t req{};
    std::string data;
  };

  void accept() {
    auto c = std::make_unique<Connection>();
    c->owner = this;
    uv_tcp_init(listener_.loop, &c->tcp);
    c->tcp.data = c.get();
    if (uv_accept(reinterpret_cast<uv_stream_t*>(&listener_),
                  reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), nullptr);
      orphans_.push_back(std::move(c));
      return;
    }
    std::size_t index = connections_.size();
    if (index < scripts_.size())
      c->script = scripts_[index];
    Connection& conn = *c;
    connections_.push_back(std::move(c));
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&conn.tcp),
        [](uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
          auto* c = static_cast<Connection*>(handle->data);
          *buf = uv_buf_init(c->buffer, sizeof(c->buffer));
        },
        [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
          auto* c = static_cast<Connection*>(stream->data);
          if (nread < 0) {
            c->owner->close(*c);
            return;
          }
          c->received.append(buf->base, static_cast<std::size_t>(nread));
          c->owner->advance(*c);
        });
    advance(conn);
  }

  void advance(Connection& c) {
    while (!c.closing && c.step < c.script.size()) {
      const ScriptStep& step = c.script[c.step];
      switch (step.kind) {
      case ScriptStep::Kind::wait_for: {
        std::size_t at = c.received.find(step.data, c.scan_from);
        if (at == std::string::npos)
          return;
        c.scan_from = at + step.data.size();
        break;
      }
      case ScriptStep::Kind::send: {
        auto* w = new Write;
        w->data = step.data;
        w->req.data = w;
        uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
        if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&c.tcp), &buf, 1,
                     [](uv_write_t* req, int) { delete static_cast<Write*>(req->data); }) != 0)
          delete w;
        break;
      }
      case ScriptStep::Kind::close:
        ++c.step;
        c.closing = true;
        c.shutdown.data = &c;
        if (uv_shutdown(&c.shutdown, reinterpret_cast<uv_stream_t*>(&c.tcp),
                        [](uv_shutdown_t* req, int) {
                          auto* c = static_cast<Connection*>(req->data);
                          c->closing = false; // let close() finish the job
                          c->owner->close(*c);
                        }) != 0) {
          c.closing = false;
          close(c);
        }
        return;
      }
      ++c.step;
    }
  }

  void close(Connection& c) {
    if (c.closed || c.closing)
      return;
    c.closed = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&c.tcp), nullptr);
  }

  uv_tcp_t listener_{};
  std::vector<Script> scripts_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<std::unique_ptr<Connection>> orphans_;
  bool stopped_ = false;
};

} // namespace ofwatchdog::testing
