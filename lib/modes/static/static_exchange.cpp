// One static-mode request; see static_exchange.hpp for the flow.
#include "modes/static/static_exchange.hpp"

#include <fcntl.h>
#include <sys/stat.h>

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

void StaticExchange::start(const ModeContext& context, std::shared_ptr<Exchange> exchange,
                           std::shared_ptr<StaticShared> shared) {
  auto* self = new StaticExchange(context, std::move(exchange), std::move(shared));
  Entry entry(self);
  self->run();
}

StaticExchange::StaticExchange(const ModeContext& context, std::shared_ptr<Exchange> exchange,
                               std::shared_ptr<StaticShared> shared)
    : context_(context), exchange_(std::move(exchange)), shared_(std::move(shared)),
      request_(exchange_->request()) {
  req_.data = this;
  ++shared_->live;
}

StaticExchange::~StaticExchange() {
  if (--shared_->live == 0 && shared_->on_empty) {
    std::function<void()> on_empty = std::move(shared_->on_empty);
    shared_->on_empty = nullptr;
    on_empty();
  }
}

void StaticExchange::run() {
  if (!is_served_method(request_.method)) {
    // Decision G1: the original served every method like GET; only the ones that make sense
    // for a file are kept.
    answer_text(405, "405 Method Not Allowed\n", {{"Allow", "GET, HEAD, POST"}});
    return;
  }
  // Starts the request body, which is read and dropped so the connection can be reused.
  exchange_->set_handler(this);
  if (cancelled_ || exchange_->done())
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
  fs_path_ = file_system_path(shared_->root, path);
  if (shared_->real_root.empty())
    resolve_root();
  else
    open_target();
}

// --- the file-system steps --------------------------------------------------------------------

void StaticExchange::on_fs_done(uv_fs_t* req) {
  auto* self = static_cast<StaticExchange*>(req->data);
  Entry entry(self);
  self->fs_busy_ = false;
  Step next = self->next_;
  (self->*next)(req);
}

void StaticExchange::submitted(Step next, int rc) {
  if (rc < 0) {
    // libuv refused the request outright; its callback will not run, so run the step now.
    req_.result = rc;
    (this->*next)(&req_);
    return;
  }
  next_ = next;
  fs_busy_ = true;
}

bool StaticExchange::abandoned() {
  if (!cancelled_)
    return false;
  release();
  return true;
}

std::optional<std::string> StaticExchange::real_path_result(uv_fs_t* req) const {
  if (req->result < 0 || req->ptr == nullptr)
    return std::nullopt;
  return std::string(static_cast<const char*>(req->ptr));
}

StaticExchange::FileFacts StaticExchange::facts_from(const uv_stat_t& st) {
  FileFacts facts;
  facts.size = st.st_size;
  // The original leaves Last-Modified out for a zero time and for the Unix epoch itself.
  if (st.st_mtim.tv_sec != 0 || st.st_mtim.tv_nsec != 0)
    facts.mtime = static_cast<std::time_t>(st.st_mtim.tv_sec);
  facts.is_directory = S_ISDIR(st.st_mode);
  facts.is_regular = S_ISREG(st.st_mode);
  return facts;
}

std::string StaticExchange::descriptor_name(uv_file fd, const std::string& fallback) const {
  if (!shared_->proc_fd)
    return fallback;
  return fmt::format("/proc/self/fd/{}", fd);
}

void StaticExchange::resolve_root() {
  // The root did not exist at start-up; it may have been created since.
  req_.data = this;
  submitted(&StaticExchange::on_root_resolved,
            uv_fs_realpath(context_.loop, &req_, shared_->root.c_str(), &on_fs_done));
}

void StaticExchange::on_root_resolved(uv_fs_t* req) {
  std::optional<std::string> real = real_path_result(req);
  uv_fs_req_cleanup(req);
  if (abandoned())
    return;
  if (!real) {
    answer_text(404, kNotFound);
    return;
  }
  shared_->real_root = *real;
  open_target();
}

void StaticExchange::open_target() {
  req_.data = this;
  submitted(&StaticExchange::on_target_opened,
            uv_fs_open(context_.loop, &req_, fs_path_.c_str(), kOpenFlags, 0, &on_fs_done));
}

void StaticExchange::on_target_opened(uv_fs_t* req) {
  auto result = static_cast<int>(req->result);
  uv_fs_req_cleanup(req);
  if (result >= 0) {
    target_fd_ = result;
    open_fds_.push_back(result);
  }
  if (abandoned())
    return;
  if (result < 0) {
    answer_error(result);
    return;
  }
  check_real_path(target_fd_, fs_path_, &StaticExchange::on_target_real);
}

void StaticExchange::check_real_path(uv_file fd, const std::string& name, Step next) {
  // Resolving the open descriptor rather than the name checks the very file that will be read:
  // a symlink swapped in after the open cannot redirect the check.
  real_check_fallback_ = descriptor_name(fd, name);
  req_.data = this;
  submitted(next, uv_fs_realpath(context_.loop, &req_, real_check_fallback_.c_str(), &on_fs_done));
}

void StaticExchange::on_target_real(uv_fs_t* req) {
  std::optional<std::string> real = real_path_result(req);
  uv_fs_req_cleanup(req);
  if (abandoned())
    return;
  if (!real || !is_under_root(shared_->real_root, *real)) {
    answer_text(404, kNotFound); // outside the root: as if it did not exist
    return;
  }
  real_path_ = *real;
  req_.data = this;
  submitted(&StaticExchange::on_target_stat,
            uv_fs_fstat(context_.loop, &req_, target_fd_, &on_fs_done));
}

void StaticExchange::on_target_stat(uv_fs_t* req) {
  auto result = static_cast<int>(req->result);
  if (result >= 0)
    target_ = facts_from(req->statbuf);
  uv_fs_req_cleanup(req);
  if (abandoned())
    return;
  if (result < 0) {
    answer_error(result);
    return;
  }
  const std::string& url = request_.path.empty() ? real_path_ : request_.path;
  bool trailing_slash = !url.empty() && url.back() == '/';
  if (target_.is_directory) {
    // Relative redirects, as the original: they work behind any prefix a gateway adds.
    if (!trailing_slash) {
      answer_redirect(http::escape_path(base_name(url)) + "/");
      return;
    }
    serve_directory();
    return;
  }
  if (!target_.is_regular) {
    // A FIFO, socket or device has no length to serve and may block a reader for ever.
    answer_text(403, kForbidden);
    return;
  }
  if (trailing_slash && url != "/") {
    answer_redirect("../" + http::escape_path(base_name(url)));
    return;
  }
  file_fd_ = target_fd_;
  file_ = target_;
  // The type follows the name asked for, as the original's: a symlink `page.html` to a `.txt`
  // file is served as HTML.
  serve_file(base_name(url));
}

// --- files ----------------------------------------------------------------------------------

void StaticExchange::serve_file(std::string_view name) {
  ConditionalOutcome conditions =
      evaluate_conditions(request_.method, request_.headers, file_.mtime);
  HeaderList dated;
  if (file_.mtime)
    dated.push_back({"Last-Modified", http::format_http_date(*file_.mtime)});
  if (conditions.precondition == Precondition::failed) {
    answer_empty(412, std::move(dated), 0);
    return;
  }
  if (conditions.precondition == Precondition::not_modified) {
    answer_empty(304, std::move(dated), std::nullopt);
    return;
  }
  const std::string* range_header = request_.header("Range");
  RangeRequest range;
  if (conditions.range_allowed && range_header != nullptr)
    range = parse_range(*range_header, file_.size);
  switch (range.kind) {
  case RangeRequest::Kind::invalid:
    answer_text(416, "invalid range\n");
    return;
  case RangeRequest::Kind::unsatisfiable:
    answer_text(416, "invalid range: failed to overlap\n",
                {{"Content-Range", fmt::format("bytes */{}", file_.size)}});
    return;
  case RangeRequest::Kind::single:
    partial_ = true;
    range_first_ = range.first;
    range_length_ = range.length;
    break;
  case RangeRequest::Kind::whole:
    range_first_ = 0;
    range_length_ = file_.size;
    break;
  }
  if (std::optional<std::string_view> type = content_type_for_name(name)) {
    send_file(std::string(*type));
    return;
  }
  // Unknown extension: the type comes from the file's first bytes, whatever range is asked for.
  sniff_buffer_.resize(static_cast<std::size_t>(std::min<std::uint64_t>(file_.size, kSniffBytes)));
  if (sniff_buffer_.empty()) {
    send_file(std::string(sniff_content_type({})));
    return;
  }
  uv_buf_t buf = uv_buf_init(sniff_buffer_.data(), static_cast<unsigned int>(sniff_buffer_.size()));
  req_.data = this;
  submitted(&StaticExchange::on_sniffed,
            uv_fs_read(context_.loop, &req_, file_fd_, &buf, 1, 0, &on_fs_done));
}

void StaticExchange::on_sniffed(uv_fs_t* req) {
  auto result = static_cast<int>(req->result);
  uv_fs_req_cleanup(req);
  if (abandoned())
    return;
  if (result < 0) {
    answer_error(result);
    return;
  }
  sniff_buffer_.resize(static_cast<std::size_t>(result));
  send_file(std::string(sniff_content_type(sniff_buffer_)));
}

void StaticExchange::send_file(std::string content_type) {
  HeaderList headers{{"Accept-Ranges", "bytes"}, {"Content-Type", std::move(content_type)}};
  if (file_.mtime)
    headers.push_back({"Last-Modified", http::format_http_date(*file_.mtime)});
  if (partial_) {
    headers.push_back({"Content-Range", fmt::format("bytes {}-{}/{}", range_first_,
                                                    range_first_ + range_length_ - 1, file_.size)});
  }
  exchange_->send_head(ResponseHead{partial_ ? 206 : 200, std::move(headers), range_length_});
  // HEAD gets the length without the bytes, so the file is not read at all.
  if (request_.method == "HEAD" || range_length_ == 0) {
    end_response();
    return;
  }
  body_.emplace(context_.loop, *exchange_, file_fd_, range_first_, range_length_,
                [this](int status) {
                  Entry entry(this);
                  on_body_done(status);
                });
  body_->start();
}

void StaticExchange::on_body_done(int status) {
  if (status == 0) {
    end_response();
    return;
  }
  if (status != UV_ECANCELED) {
    context_.log->info(fmt::format("Error reading {}: {}", real_path_, uv_strerror(status)));
    // The head promised a length that can no longer be met: the client must see the cut.
    answered_ = true;
    exchange_->set_handler(nullptr);
    exchange_->abort();
  }
  release();
}

void StaticExchange::on_writable() {
  Entry entry(this);
  if (body_)
    body_->on_writable();
}

void StaticExchange::on_cancel(CancelReason) {
  Entry entry(this);
  cancelled_ = true;
  answered_ = true;
  if (body_)
    body_->stop(); // its Done releases the rest
  else if (!fs_busy_)
    release(); // otherwise the step in flight sees `cancelled_` and releases
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
    location += request_.raw_query;
  }
  answer_empty(301, {{"Location", std::move(location)}}, 0);
}

void StaticExchange::answer_empty(int status, HeaderList headers,
                                  std::optional<std::uint64_t> length) {
  exchange_->send_head(ResponseHead{status, std::move(headers), length});
  end_response();
}

void StaticExchange::end_response() {
  if (!answered_) {
    answered_ = true;
    exchange_->set_handler(nullptr);
    exchange_->finish();
  }
  release();
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
    req_.data = this;
    if (uv_fs_close(context_.loop, &req_, fd, &on_closed) == 0) {
      fs_busy_ = true;
      return;
    }
    uv_fs_req_cleanup(&req_);
  }
  released_ = true;
}

void StaticExchange::on_closed(uv_fs_t* req) {
  auto* self = static_cast<StaticExchange*>(req->data);
  Entry entry(self);
  uv_fs_req_cleanup(req);
  self->fs_busy_ = false;
  self->close_next();
}

void StaticExchange::destroy_if_finished() {
  if (released_ && !fs_busy_ && depth_ == 0)
    delete this;
}

} // namespace ofwatchdog::modes::static_files
