// One static-mode request; see static_exchange.hpp for the flow.
#include "modes/static/static_exchange.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "http/http_date.hpp"
#include "http/path_clean.hpp"
#include "modes/static/byte_range.hpp"
#include "modes/static/conditional.hpp"
#include "modes/static/dir_listing.hpp"
#include "modes/static/mime_types.hpp"
#include "modes/static/path_rules.hpp"
#include "modes/static/static_constants.hpp"
#include "util/invariant.hpp"

namespace ofwatchdog::modes::static_files {

namespace {

constexpr std::string_view kNotFound = "404 page not found\n";
constexpr std::string_view kForbidden = "403 Forbidden\n";
constexpr std::string_view kInternalError = "500 Internal Server Error\n";

bool is_served_method(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "POST";
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

} // namespace

std::string_view StaticShared::last_modified(std::time_t mtime) {
  if (formatted_mtime_ != mtime) {
    formatted_text_ = http::format_http_date(mtime);
    formatted_mtime_ = mtime;
  }
  return formatted_text_;
}

void StaticExchange::start(const ModeContext& context, std::shared_ptr<Exchange> exchange,
                           std::shared_ptr<StaticShared> shared,
                           std::shared_ptr<JobRegistry> registry) {
  // The registry owns the job from here on; it finishes itself (see close_next).
  (new StaticExchange(context, std::move(exchange), std::move(shared), std::move(registry)))->run();
}

StaticExchange::StaticExchange(const ModeContext& context, std::shared_ptr<Exchange> exchange,
                               std::shared_ptr<StaticShared> shared,
                               std::shared_ptr<JobRegistry> registry)
    : RequestJob(context, std::move(exchange), std::move(registry)), shared_(std::move(shared)),
      request_(exchange_->request()) {
  work_.data = this;
  close_req_.data = this;
}

void StaticExchange::run() {
  if (!is_served_method(request_.method)) {
    // static-methods (docs/decisions.md): the original served every method like GET; only the ones
    // that make sense for a file are kept.
    answer_text(405, "405 Method Not Allowed\n", {{"Allow", "GET, HEAD, POST"}});
    return;
  }
  // Starts the request body, which is read and dropped so the connection can be reused.
  exchange_->set_handler(this);
  if (answer_ == Answer::cancelled || exchange_->done())
    return;
  std::string_view path = request_.path.empty() ? std::string_view("/") : request_.path;
  if (!is_acceptable_path(path)) {
    answer_text(404, kNotFound);
    return;
  }
  if (ends_with(path, "/index.html")) {
    answer_redirect("./");
    return;
  }
  input_.root = shared_->root;
  input_.real_root = shared_->real_root;
  input_.fs_path = file_system_path(shared_->root, path);
  if (!request_.path.empty())
    input_.type_name = std::string(base_name(request_.path));
  input_.proc_fd = shared_->proc_fd;
  input_.want_index = !request_.path.empty() && request_.path.back() == '/';
  input_.want_bytes = request_.method != "HEAD";
  if (shared_->inline_resolver.try_resolve(input_, result_)) {
    close_inline_ = true;
    on_resolved();
    return;
  }
  int rc = uv_queue_work(context_.loop, &work_, &StaticExchange::work, &StaticExchange::after_work);
  if (rc < 0) {
    answer_text(500, kInternalError);
    return;
  }
  fs_busy_ = true;
  expect_callback();
}

// --- the file-system job ----------------------------------------------------------------------

void StaticExchange::work(uv_work_t* work) {
  // A pool thread: only the job's own input and result are touched.
  auto* self = static_cast<StaticExchange*>(work->data);
  self->result_ = resolve_request(self->input_);
}

void StaticExchange::after_work(uv_work_t* work, int status) {
  auto* self = static_cast<StaticExchange*>(work->data);
  self->fs_busy_ = false;
  self->callback_done();
  if (status < 0) { // cancelled before it ran: nothing was opened
    if (!self->abandoned())
      self->answer_text(500, kInternalError);
    return;
  }
  self->on_resolved();
}

bool StaticExchange::abandoned() {
  if (answer_ != Answer::cancelled)
    return false;
  release();
  return true;
}

void StaticExchange::on_resolved() {
  ResolveResult& r = result_;
  if (!r.resolved_root.empty() && shared_->real_root.empty())
    shared_->real_root = r.resolved_root;
  if (r.file_fd >= 0)
    open_fds_.push_back(r.file_fd);
  if (abandoned())
    return;
  if (r.root_missing || r.outside_root) {
    answer_text(404, kNotFound); // outside the root: as if it did not exist
    return;
  }
  if (r.open_error < 0) {
    answer_error(r.open_error);
    return;
  }
  const std::string& url = request_.path.empty() ? r.real_path : request_.path;
  bool trailing_slash = !url.empty() && url.back() == '/';
  if (r.target.is_directory) {
    // Relative redirects, as the original: they work behind any prefix a gateway adds.
    if (!trailing_slash) {
      answer_redirect(http::escape_path(base_name(url)) + "/");
      return;
    }
    serve_directory();
    return;
  }
  if (!r.target.is_regular) {
    // A FIFO, socket or device has no length to serve and may block a reader for ever.
    answer_text(403, kForbidden);
    return;
  }
  if (trailing_slash && url != "/") {
    answer_redirect("../" + http::escape_path(base_name(url)));
    return;
  }
  // The type follows the name asked for, as the original's: a symlink `page.html` to a `.txt`
  // file is served as HTML.
  serve_file();
}

// --- files ----------------------------------------------------------------------------------

void StaticExchange::serve_file() {
  const FileFacts& file = result_.file;
  if (result_.read_error < 0) {
    answer_error(result_.read_error);
    return;
  }
  ConditionalOutcome conditions =
      evaluate_conditions(request_.method, request_.headers, file.mtime);
  if (conditions.precondition != Precondition::proceed) {
    HeaderList dated;
    if (file.mtime)
      dated.push_back({"Last-Modified", std::string(shared_->last_modified(*file.mtime))});
    if (conditions.precondition == Precondition::failed)
      answer_empty(412, std::move(dated), 0);
    else
      answer_empty(304, std::move(dated), std::nullopt);
    return;
  }
  const std::string* range_header = request_.header("Range");
  RangeRequest range;
  if (conditions.range_allowed && range_header != nullptr)
    range = parse_range(*range_header, file.size);
  switch (range.kind) {
  case RangeRequest::Kind::invalid:
    answer_text(416, "invalid range\n");
    return;
  case RangeRequest::Kind::unsatisfiable:
    answer_text(416, "invalid range: failed to overlap\n",
                {{"Content-Range", fmt::format("bytes */{}", file.size)}});
    return;
  case RangeRequest::Kind::single:
    partial_ = true;
    range_first_ = range.first;
    range_length_ = range.length;
    break;
  case RangeRequest::Kind::whole:
    range_first_ = 0;
    range_length_ = file.size;
    break;
  }
  send_file();
}

void StaticExchange::send_file() {
  const FileFacts& file = result_.file;
  HeaderList headers{{"Accept-Ranges", "bytes"},
                     {"Content-Type", std::string(result_.content_type)}};
  if (file.mtime)
    headers.push_back({"Last-Modified", std::string(shared_->last_modified(*file.mtime))});
  if (partial_) {
    headers.push_back({"Content-Range", fmt::format("bytes {}-{}/{}", range_first_,
                                                    range_first_ + range_length_ - 1, file.size)});
  }
  exchange_->send_head(ResponseHead{partial_ ? 206 : 200, std::move(headers), range_length_});
  // HEAD gets the length without the bytes, so the file is not read at all.
  if (request_.method == "HEAD" || range_length_ == 0) {
    end_response();
    return;
  }
  if (result_.bytes) {
    // A small file was read by the job: the body goes into the write queue behind the head, and
    // both leave in one write.
    exchange_->send_body(std::string_view(*result_.bytes)
                             .substr(static_cast<std::size_t>(range_first_),
                                     static_cast<std::size_t>(range_length_)));
    end_response();
    return;
  }
  body_.emplace(context_.loop, *exchange_, result_.file_fd, range_first_, range_length_,
                [this](int status) { on_body_done(status); });
  body_->start();
}

void StaticExchange::on_body_done(int status) {
  if (status == 0) {
    end_response();
    return;
  }
  if (status != UV_ECANCELED) {
    context_.log->info(fmt::format("Error reading {}: {}", result_.real_path, uv_strerror(status)));
    // The head promised a length that can no longer be met: the client must see the cut.
    end_answer(Answer::answered);
    exchange_->set_handler(nullptr);
    exchange_->abort();
  }
  release();
}

void StaticExchange::on_writable() {
  if (body_)
    body_->on_writable();
}

void StaticExchange::on_cancel(CancelReason) {
  end_answer(Answer::cancelled);
  if (body_)
    body_->stop(); // its Done releases the rest
  else if (!fs_busy_)
    release(); // otherwise the job in flight sees the cancellation and releases
}

// --- answers and the end --------------------------------------------------------------------

void StaticExchange::answer_error(int uv_error) {
  switch (uv_error) {
  case UV_ENOENT:
  case UV_ENOTDIR:
  case UV_ENAMETOOLONG:
    answer_text(404, kNotFound);
    return;
  case UV_EACCES:
  case UV_EPERM:
    answer_text(403, kForbidden);
    return;
  default:
    answer_text(500, kInternalError);
  }
}

void StaticExchange::answer_text(int status, std::string_view text, HeaderList extra) {
  HeaderList headers{{"Content-Type", std::string(kTextType)},
                     {"X-Content-Type-Options", "nosniff"}};
  for (Header& header : extra)
    headers.push_back(std::move(header));
  exchange_->send_head(ResponseHead{status, std::move(headers), text.size()});
  exchange_->send_body(text);
  end_response();
}

void StaticExchange::answer_redirect(std::string location) {
  if (!request_.raw_query.empty()) {
    location += '?';
    location += http::escape_query(request_.raw_query);
  }
  answer_empty(301, {{"Location", std::move(location)}}, 0);
}

void StaticExchange::answer_empty(int status, HeaderList headers,
                                  std::optional<std::uint64_t> length) {
  exchange_->send_head(ResponseHead{status, std::move(headers), length});
  end_response();
}

void StaticExchange::end_response() {
  if (answer_ == Answer::open) {
    end_answer(Answer::answered);
    exchange_->set_handler(nullptr);
    exchange_->finish();
  }
  release();
}

void StaticExchange::end_answer(Answer to) {
  OFW_INVARIANT(answer_ == Answer::open && to != Answer::open,
                "the client's side of a static request ends once");
  answer_ = to;
}

void StaticExchange::release() {
  if (releasing_)
    return;
  releasing_ = true;
  close_next();
}

void StaticExchange::close_next() {
  while (!open_fds_.empty()) {
    uv_file fd = open_fds_.back();
    open_fds_.pop_back();
    if (close_inline_) {
      // The fast path's descriptor of a read-only regular file on a local file system: closing
      // it writes nothing back and does not wait, so it is not worth a thread-pool round trip.
      ::close(fd);
      continue;
    }
    if (uv_fs_close(context_.loop, &close_req_, fd, &on_closed) == 0) {
      fs_busy_ = true;
      expect_callback();
      return;
    }
    uv_fs_req_cleanup(&close_req_);
  }
  finish_job();
}

void StaticExchange::on_closed(uv_fs_t* req) {
  auto* self = static_cast<StaticExchange*>(req->data);
  uv_fs_req_cleanup(req);
  self->fs_busy_ = false;
  self->callback_done();
  self->close_next();
}

void StaticExchange::shut_down() {
  if (answer_ != Answer::open)
    return; // already on its way out
  exchange_->set_handler(nullptr);
  exchange_->abort();
  on_cancel(CancelReason::shutdown);
}

} // namespace ofwatchdog::modes::static_files
