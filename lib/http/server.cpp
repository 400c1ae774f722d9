// Server: the public face of ServerImpl (server_impl.hpp).
#include "http/server.hpp"

#include "http/server_impl.hpp"

namespace ofwatchdog::http {

Server::Server(uv_loop_s* loop, ServerLimits limits, RequestCallback on_request)
    : impl_(std::make_unique<ServerImpl>(loop, limits, std::move(on_request))) {}

Server::~Server() {
  if (impl_ && impl_->busy()) {
    // Handles are still open: close them and let the implementation free itself once libuv has
    // run their close callbacks (the loop must run for that).
    impl_->close(nullptr);
    impl_->orphan();
    static_cast<void>(impl_.release()); // it frees itself from its last close callback
  }
}

int Server::listen(int port) {
  return impl_->listen(port);
}
int Server::port() const {
  return impl_->port();
}
void Server::drain(std::function<void()> done) {
  impl_->drain(std::move(done));
}
void Server::close(std::function<void()> done) {
  impl_->close(std::move(done));
}
std::size_t Server::connection_count() const {
  return impl_->connection_count();
}

void Server::set_refusal_log(std::function<void(std::string_view)> log) {
  impl_->set_refusal_log(std::move(log));
}

} // namespace ofwatchdog::http
