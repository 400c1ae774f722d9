#include "http/write_queue.hpp"

#include <memory>

namespace ofwatchdog::http {

// One uv_write and the buffers it points into; freed in its callback, which libuv runs even when
// the stream is closed first (with UV_ECANCELED), so the owner is still alive then.
struct WriteQueue::Batch {
  uv_write_t req{};
  std::vector<std::string> buffers;
  WriteQueue* queue = nullptr;
  std::size_t bytes = 0;
};

WriteQueue::WriteQueue(uv_stream_t* stream, std::function<void(int)> on_written)
    : stream_(stream), on_written_(std::move(on_written)) {}

void WriteQueue::write(std::string_view data) {
  if (data.empty()) {
    return;
  }
  if (!pending_.empty() && pending_.back().size() + data.size() <= kCoalesceLimit) {
    pending_.back().append(data);
  } else {
    pending_.emplace_back(data);
  }
  pending_bytes_ += data.size();
  submit();
}

void WriteQueue::write(std::string&& data) {
  std::size_t size = data.size();
  if (size == 0) {
    return;
  }
  if (!pending_.empty() && pending_.back().size() + size <= kCoalesceLimit) {
    pending_.back().append(data);
  } else {
    pending_.push_back(std::move(data));
  }
  pending_bytes_ += size;
  submit();
}

void WriteQueue::discard_pending() {
  pending_.clear();
  pending_bytes_ = 0;
}

void WriteQueue::submit() {
  if (in_flight_ || pending_.empty()) {
    return;
  }
  auto batch = std::make_unique<Batch>();
  batch->queue = this;
  batch->buffers.swap(pending_);
  batch->bytes = pending_bytes_;
  pending_bytes_ = 0;
  std::vector<uv_buf_t> bufs;
  bufs.reserve(batch->buffers.size());
  for (std::string& b : batch->buffers) {
    bufs.push_back(uv_buf_init(b.data(), static_cast<unsigned int>(b.size())));
  }
  in_flight_ = true;
  in_flight_bytes_ = batch->bytes;
  batch->req.data = batch.get();
  int rc = uv_write(&batch->req, stream_, bufs.data(), static_cast<unsigned int>(bufs.size()),
                    &WriteQueue::on_write_done);
  if (rc != 0) {
    // The stream is unusable (closing, or the peer is gone); report it like a failed write.
    in_flight_ = false;
    in_flight_bytes_ = 0;
    on_written_(rc);
    return;
  }
  batch.release();
}

void WriteQueue::on_write_done(uv_write_t* req, int status) {
  std::unique_ptr<Batch> batch(static_cast<Batch*>(req->data));
  WriteQueue* self = batch->queue;
  self->in_flight_ = false;
  self->in_flight_bytes_ = 0;
  batch.reset();
  if (status == 0) {
    self->submit();
  }
  self->on_written_(status);
}

} // namespace ofwatchdog::http
