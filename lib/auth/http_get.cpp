#include "auth/http_get.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <llhttp.h>

#include "upstream/upstream_url.hpp"
#include "util/llhttp_callbacks.hpp"
#include "util/owned_fd.hpp"

namespace ofwatchdog::auth {

namespace {

using Clock = std::chrono::steady_clock;

// Waits until `fd` is ready for `events` or the deadline passes; false on the deadline.
bool wait_ready(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0)
      return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0)
      return true;
    if (n < 0 && errno != EINTR)
      return false;
  }
}

// The response as llhttp reads it: the status, the de-chunked body up to a cap, and the end.
class ResponseReader {
public:
  explicit ResponseReader(std::size_t max_body) : max_body_(max_body) {
    llhttp_settings_init(&settings_);
    settings_.on_body = &llhttp_data<&ResponseReader::on_body>;
    settings_.on_message_complete = &llhttp_event<&ResponseReader::on_complete>;
    llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
    parser_.data = this;
  }

  // Feeds bytes; false once the response is malformed or too large.
  bool feed(const char* data, std::size_t length) {
    llhttp_errno_t err = llhttp_execute(&parser_, data, length);
    return err == HPE_OK || (err == HPE_PAUSED && complete_);
  }
  // The peer closed: a body delimited by the close ends here.
  bool finish_at_close() { return llhttp_finish(&parser_) == HPE_OK; }

  bool complete() const { return complete_; }
  bool too_large() const { return too_large_; }
  int status() const { return llhttp_get_status_code(const_cast<llhttp_t*>(&parser_)); }
  std::string& body() { return body_; }

private:
  int on_body(const char* at, std::size_t length) {
    if (body_.size() + length > max_body_) {
      too_large_ = true;
      return -1;
    }
    body_.append(at, length);
    return 0;
  }
  int on_complete() {
    complete_ = true;
    return HPE_PAUSED;
  }

  llhttp_settings_t settings_{};
  llhttp_t parser_{};
  std::size_t max_body_;
  std::string body_;
  bool complete_ = false;
  bool too_large_ = false;
};

// A connected socket to `url`'s host and port, or -1 with `error` set.
int connect_to(const upstream::UpstreamUrl& url, Clock::time_point deadline, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(url.port);
  if (int err = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found); err != 0) {
    error = fmt::format("cannot resolve {}: {}", url.host, gai_strerror(err));
    return -1;
  }
  error = fmt::format("cannot connect to {}", url.authority);
  int connected = -1;
  for (addrinfo* a = found; a != nullptr && connected < 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0)
      continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      int so_error = ETIMEDOUT;
      socklen_t len = sizeof so_error;
      if (wait_ready(fd, POLLOUT, deadline))
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      rc = so_error == 0 ? 0 : -1;
      errno = so_error;
    }
    if (rc == 0) {
      connected = fd;
    } else {
      error = fmt::format("cannot connect to {}: {}", url.authority, std::strerror(errno));
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (connected >= 0)
    error.clear();
  return connected;
}

} // namespace

HttpGetResult http_get(std::string_view url_text, std::chrono::milliseconds timeout,
                       std::size_t max_body) {
  HttpGetResult result;
  std::optional<upstream::UpstreamUrl> url = upstream::parse_upstream_url(url_text);
  if (!url) {
    result.error = fmt::format("{} is not an http:// address", url_text);
    return result;
  }
  Clock::time_point deadline = Clock::now() + timeout;
  OwnedFd socket(connect_to(*url, deadline, result.error));
  if (!socket.valid())
    return result;

  std::string path = url->base_path.empty() ? "/" : url->base_path;
  std::string request =
      fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: openfaas-watchdog\r\n"
                  "Accept: application/json\r\nConnection: close\r\n\r\n",
                  path, url->authority);
  std::string_view unsent = request;
  while (!unsent.empty()) {
    ssize_t n = ::send(socket.get(), unsent.data(), unsent.size(), MSG_NOSIGNAL);
    if (n > 0) {
      unsent.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_ready(socket.get(), POLLOUT, deadline)) {
        result.error = fmt::format("GET {}: timed out sending", url_text);
        return result;
      }
    } else {
      result.error = fmt::format("GET {}: {}", url_text, std::strerror(errno));
      return result;
    }
  }

  ResponseReader reader(max_body);
  char buffer[16384];
  while (!reader.complete()) {
    if (!wait_ready(socket.get(), POLLIN, deadline)) {
      result.error = fmt::format("GET {}: no whole answer within {} ms", url_text, timeout.count());
      return result;
    }
    ssize_t n = ::recv(socket.get(), buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      continue;
    if (n < 0) {
      result.error = fmt::format("GET {}: {}", url_text, std::strerror(errno));
      return result;
    }
    bool fed = n == 0 ? reader.finish_at_close() : reader.feed(buffer, static_cast<std::size_t>(n));
    if (!fed || (n == 0 && !reader.complete())) {
      result.error =
          reader.too_large()
              ? fmt::format("GET {}: the body is larger than {} bytes", url_text, max_body)
              : fmt::format("GET {}: the answer is not a whole HTTP response", url_text);
      return result;
    }
  }
  if (reader.status() != 200) {
    result.error = fmt::format("GET {}: status {}", url_text, reader.status());
    return result;
  }
  result.body = std::move(reader.body());
  return result;
}

} // namespace ofwatchdog::auth
