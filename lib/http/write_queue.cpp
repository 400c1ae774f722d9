#include "http/write_queue.hpp"

#include <algorithm>
#include <array>
#include <memory>

#include "util/stream_write.hpp"

namespace ofwatchdog::http {

using util::write_now;

// One uv_write and the buffers it points into; freed in its callback, which libuv runs even when
// the stream is closed first (with UV_ECANCELED), so the owner is still alive then.
struct WriteQueue::Batch {
  uv_write_t req{};
  std::vector<std::string> buffers;
  WriteQueue* queue = nullptr;
  std::size_t bytes = 0;
};

WriteQueue::WriteQueue(uv_stream_t* stream, std::function<void(int)> on_written,
                       std::function<void()> on_pending)
    : stream_(stream), on_written_(std::move(on_written)), on_pending_(std::move(on_pending)) {}

void WriteQueue::write(std::string_view data) {
  write({data});
}

void WriteQueue::append(std::string_view data) {
  if (data.empty()) {
    return;
  }
  if (!pending_.empty() && pending_.back().size() + data.size() <= kCoalesceLimit) {
    pending_.back().append(data);
  } else {
    pending_.emplace_back(data);
  }
  pending_added(data.size());
}

void WriteQueue::write(std::initializer_list<std::string_view> pieces) {
  std::size_t total = 0;
  for (std::string_view piece : pieces) {
    total += piece.size();
  }
  std::size_t taken = 0;
  if (total >= kWriteThrough && !in_flight_) {
    std::vector<uv_buf_t> bufs;
    bufs.reserve(pending_.size() + pieces.size());
    for (std::string& b : pending_) {
      bufs.push_back(uv_buf_init(b.data(), static_cast<unsigned int>(b.size())));
    }
    for (std::string_view piece : pieces) {
      if (!piece.empty()) {
        bufs.push_back(
            uv_buf_init(const_cast<char*>(piece.data()), static_cast<unsigned int>(piece.size())));
      }
    }
    int written = write_now(stream_, bufs.data(), bufs.size());
    // An error is not reported here: the bytes stay pending and flush's own attempt reports it.
    if (written > 0) {
      taken = consume_pending(static_cast<std::size_t>(written));
    }
  }
  for (std::string_view piece : pieces) {
    std::size_t skip = taken < piece.size() ? taken : piece.size();
    taken -= skip;
    append(piece.substr(skip));
  }
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
  pending_added(size);
}

std::size_t WriteQueue::consume_pending(std::size_t taken) {
  std::size_t from_pending = taken < pending_bytes_ ? taken : pending_bytes_;
  pending_bytes_ -= from_pending;
  std::size_t rest = from_pending;
  std::size_t whole = 0;
  while (whole < pending_.size() && pending_[whole].size() <= rest) {
    rest -= pending_[whole].size();
    ++whole;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(whole));
  if (rest > 0) {
    pending_.front().erase(0, rest);
  }
  return taken - from_pending;
}

void WriteQueue::pending_added(std::size_t bytes) {
  pending_bytes_ += bytes;
  // While a write is in flight its completion submits the rest; otherwise the owner flushes.
  if (!in_flight_ && !flush_requested_) {
    flush_requested_ = true;
    on_pending_();
  }
}

void WriteQueue::discard_pending() {
  pending_.clear();
  pending_bytes_ = 0;
}

void WriteQueue::flush() {
  flush_requested_ = false;
  submit();
}

void WriteQueue::submit() {
  if (in_flight_ || pending_.empty()) {
    return;
  }
  // The pieces' descriptors: in place for the usual few, on the heap for a long queue.
  constexpr std::size_t kInlinePieces = 8;
  std::array<uv_buf_t, kInlinePieces> few;
  std::vector<uv_buf_t> many;
  uv_buf_t* bufs = few.data();
  auto describe = [&](std::vector<std::string>& pieces) {
    if (pieces.size() > kInlinePieces) {
      many.resize(pieces.size());
      bufs = many.data();
    }
    for (std::size_t i = 0; i < pieces.size(); ++i)
      bufs[i] = uv_buf_init(pieces[i].data(), static_cast<unsigned int>(pieces[i].size()));
    return pieces.size();
  };
  // Nothing of ours is in flight, so the kernel may take the bytes at once.
  std::size_t count = describe(pending_);
  int written = write_now(stream_, bufs, count);
  if (written < 0 && written != UV_EAGAIN) {
    on_written_(written);
    return;
  }
  if (written > 0) {
    consume_pending(static_cast<std::size_t>(written));
    if (pending_.empty()) {
      on_written_(0);
      return;
    }
  }
  auto batch = std::make_unique<Batch>();
  batch->queue = this;
  batch->buffers.swap(pending_);
  batch->bytes = pending_bytes_;
  pending_bytes_ = 0;
  in_flight_ = true;
  in_flight_bytes_ = batch->bytes;
  batch->req.data = batch.get();
  count = describe(batch->buffers);
  int rc = uv_write(&batch->req, stream_, bufs, static_cast<unsigned int>(count),
                    &WriteQueue::on_write_done);
  if (rc != 0) {
    // The stream is unusable (closing, or the peer is gone); report it like a failed write.
    in_flight_ = false;
    in_flight_bytes_ = 0;
    on_written_(rc);
    return;
  }
  static_cast<void>(batch.release()); // the write callback owns it now
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
