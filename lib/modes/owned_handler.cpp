// serve_with_handler: a handler its request owns; see include/ofwatchdog/handler_mode.hpp.
#include <memory>
#include <string_view>
#include <utility>

#include <uv.h>

#include "ofwatchdog/forwarding_exchange.hpp"
#include "ofwatchdog/handler_mode.hpp"

namespace ofwatchdog {

namespace {

// The exchange the handler is given: it passes everything through and notices every way the
// exchange can end (the handler's finish or abort, a cancellation), so it can let the handler
// go then. Until that moment it keeps itself and the handler alive.
class OwningExchange final : public ForwardingExchange,
                             public std::enable_shared_from_this<OwningExchange> {
public:
  using ForwardingExchange::ForwardingExchange;

  void adopt(std::unique_ptr<ExchangeHandler> handler) {
    owned_ = std::move(handler);
    self_ = shared_from_this();
    if (ended_)
      let_go();
  }

  void finish() override {
    ForwardingExchange::finish();
    ended();
  }
  void abort() override {
    ForwardingExchange::abort();
    ended();
  }

private:
  void on_body(std::string_view data) override {
    forward([&] { ForwardingExchange::on_body(data); });
  }
  void on_body_end() override {
    forward([&] { ForwardingExchange::on_body_end(); });
  }
  void on_writable() override {
    forward([&] { ForwardingExchange::on_writable(); });
  }
  void on_cancel(CancelReason reason) override {
    forward([&] { ForwardingExchange::on_cancel(reason); });
    ended();
  }

  // A handler that throws is done with: the exchange around this one (DeadlineExchange, in
  // handler mode) catches it, detaches us and answers for the handler, so no end would reach
  // us otherwise.
  template <typename Call> void forward(Call&& call) {
    try {
      call();
    } catch (...) {
      ended();
      throw;
    }
  }

  void ended() {
    ended_ = true;
    if (owned_)
      let_go();
  }

  // The handler (and this exchange, once the handler lets it go) is destroyed in the close
  // callback of a handle that exists for that alone: the loop's next close phase, after
  // whatever call ended the exchange has returned, as libuv frees its own handles.
  void let_go() {
    struct Reaper {
      uv_idle_t handle;
      std::shared_ptr<OwningExchange> exchange;
      std::unique_ptr<ExchangeHandler> handler; // destroyed first: it may use its exchange
    };
    auto* reaper = new Reaper{{}, std::move(self_), std::move(owned_)};
    uv_idle_init(loop(), &reaper->handle);
    reaper->handle.data = reaper;
    uv_close(reinterpret_cast<uv_handle_t*>(&reaper->handle),
             [](uv_handle_t* handle) { delete static_cast<Reaper*>(handle->data); });
  }

  std::unique_ptr<ExchangeHandler> owned_;
  std::shared_ptr<OwningExchange> self_;
  bool ended_ = false;
};

} // namespace

void serve_with_handler(std::shared_ptr<Exchange> exchange, const HandlerFactory& make) {
  auto owning = std::make_shared<OwningExchange>(std::move(exchange));
  owning->adopt(make(owning));
}

} // namespace ofwatchdog
