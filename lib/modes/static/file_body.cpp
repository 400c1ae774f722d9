// Streaming a file range into a response; see file_body.hpp.
#include "modes/static/file_body.hpp"

#include <algorithm>
#include <string_view>

namespace ofwatchdog::modes::static_files {

FileBody::FileBody(uv_loop_t* loop, Exchange& exchange, uv_file fd, std::uint64_t offset,
                   std::uint64_t length, Done done)
    : loop_(loop), exchange_(exchange), fd_(fd), offset_(offset), remaining_(length),
      done_(std::move(done)) {
  req_.data = this;
}

void FileBody::start() {
  if (!try_send_file())
    read_next();
}

bool FileBody::try_send_file() {
  if (remaining_ <= kChunkBytes)
    return false; // see the header: one read and one write are cheaper
  sending_ = exchange_.send_file(fd_, offset_, remaining_, [this](int status, std::uint64_t sent) {
    on_file_sent(status, sent);
  });
  return sending_;
}

void FileBody::on_file_sent(int status, std::uint64_t sent) {
  sending_ = false;
  offset_ += sent;
  remaining_ -= std::min(sent, remaining_);
  if (stopped_) {
    end(UV_ECANCELED);
    return;
  }
  if (status == Exchange::kTransferUnsupported) {
    read_next(); // the rest the ordinary way
    return;
  }
  end(status);
}

void FileBody::on_writable() {
  if (!waiting_ || stopped_ || ended_)
    return;
  waiting_ = false;
  read_next();
}

void FileBody::stop() {
  if (ended_ || stopped_)
    return;
  stopped_ = true;
  // A read in flight, or a delivery on the stack, ends the body itself when it returns. A
  // transfer by the connection was dropped with the exchange: its callback never comes.
  sending_ = false;
  if (!reading_ && !in_delivery_)
    end(UV_ECANCELED);
}

void FileBody::read_next() {
  if (remaining_ == 0) {
    end(0);
    return;
  }
  if (!buffer_)
    buffer_.reset(new char[kChunkBytes]);
  auto want = static_cast<unsigned int>(std::min<std::uint64_t>(remaining_, kChunkBytes));
  uv_buf_t buf = uv_buf_init(buffer_.get(), want);
  req_.data = this;
  int rc = uv_fs_read(loop_, &req_, fd_, &buf, 1, static_cast<std::int64_t>(offset_),
                      &FileBody::on_read);
  if (rc < 0) {
    uv_fs_req_cleanup(&req_);
    end(rc);
    return;
  }
  reading_ = true;
}

void FileBody::on_read(uv_fs_t* req) {
  auto* self = static_cast<FileBody*>(req->data);
  ssize_t result = req->result;
  uv_fs_req_cleanup(req);
  self->reading_ = false;
  self->handle_read(result);
}

void FileBody::handle_read(ssize_t result) {
  if (stopped_) {
    end(UV_ECANCELED);
    return;
  }
  if (result < 0) {
    end(static_cast<int>(result));
    return;
  }
  if (result == 0) {
    end(UV_EOF); // the file is shorter than when it was measured
    return;
  }
  auto n = static_cast<std::uint64_t>(result);
  offset_ += n;
  remaining_ -= std::min(n, remaining_);
  in_delivery_ = true;
  bool more = exchange_.send_body(std::string_view(buffer_.get(), static_cast<std::size_t>(n)));
  in_delivery_ = false;
  if (stopped_) {
    end(UV_ECANCELED);
    return;
  }
  if (!more && remaining_ > 0) {
    waiting_ = true;
    return;
  }
  read_next();
}

void FileBody::end(int status) {
  if (ended_)
    return;
  ended_ = true;
  Done done = std::move(done_);
  done(status);
}

} // namespace ofwatchdog::modes::static_files
