// See tagged_mode.hpp.
#include "tagged_mode.hpp"

#include <ofwatchdog/forwarding_exchange.hpp>

namespace {

using namespace ofwatchdog;

class TaggedExchange final : public ForwardingExchange {
public:
  TaggedExchange(std::shared_ptr<Exchange> inner, std::string tag)
      : ForwardingExchange(std::move(inner)), tag_(std::move(tag)) {}

  void send_head(ResponseHead head) override {
    head.headers.push_back({"X-Tagged", tag_});
    ForwardingExchange::send_head(std::move(head));
  }

private:
  std::string tag_;
};

class TaggedMode final : public ModeStrategy {
public:
  TaggedMode(std::unique_ptr<ModeStrategy> inner, std::string tag)
      : inner_(std::move(inner)), tag_(std::move(tag)) {}

  int start(ModeContext& context) override { return inner_->start(context); }
  void handle(std::shared_ptr<Exchange> exchange) override {
    inner_->handle(std::make_shared<TaggedExchange>(std::move(exchange), tag_));
  }
  void stop(std::function<void()> done) override { inner_->stop(std::move(done)); }

private:
  std::unique_ptr<ModeStrategy> inner_;
  std::string tag_;
};

} // namespace

ModeDescriptor tagged(const ModeDescriptor& inner) {
  ModeDescriptor mode = inner; // its variables and their checks, its use of fprocess
  mode.name = "tagged-" + inner.name;
  mode.create = [create = inner.create, tag = inner.name](const Config& config) -> ModeCreation {
    ModeCreation made = create(config);
    if (auto* strategy = std::get_if<std::unique_ptr<ModeStrategy>>(&made))
      return std::make_unique<TaggedMode>(std::move(*strategy), tag);
    return made; // the inner mode's reason it cannot start
  };
  return mode;
}
