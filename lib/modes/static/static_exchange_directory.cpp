// StaticExchange, directories: index.html when there is one (and it stays inside the root),
// else the listing. See static_exchange.hpp for the whole flow.
#include "modes/static/static_exchange.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "http/http_date.hpp"
#include "modes/static/conditional.hpp"
#include "modes/static/dir_listing.hpp"
#include "modes/static/path_rules.hpp"
#include "modes/static/static_constants.hpp"

namespace ofwatchdog::modes::static_files {

void StaticExchange::serve_directory() {
  if (not_modified_since(request_.method, request_.headers, target_.mtime)) {
    answer_empty(304, {}, std::nullopt);
    return;
  }
  real_check_fallback_ = real_path_ == "/" ? "/index.html" : real_path_ + "/index.html";
  index_name_ = real_check_fallback_;
  req_.data = this;
  submitted(&StaticExchange::on_index_opened,
            uv_fs_open(context_.loop, &req_, index_name_.c_str(), kOpenFlags, 0, &on_fs_done));
}

void StaticExchange::on_index_opened(uv_fs_t* req) {
  auto result = static_cast<int>(req->result);
  uv_fs_req_cleanup(req);
  if (result >= 0) {
    file_fd_ = result;
    open_fds_.push_back(result);
  }
  if (abandoned())
    return;
  if (result < 0) {
    list_directory(); // no usable index.html, whatever the reason
    return;
  }
  check_real_path(file_fd_, index_name_, &StaticExchange::on_index_real);
}

void StaticExchange::on_index_real(uv_fs_t* req) {
  std::optional<std::string> real = real_path_result(req);
  uv_fs_req_cleanup(req);
  if (abandoned())
    return;
  if (!real || !is_under_root(shared_->real_root, *real)) {
    // An index.html that leads outside the root is not used; the listing takes its place.
    list_directory();
    return;
  }
  req_.data = this;
  submitted(&StaticExchange::on_index_stat,
            uv_fs_fstat(context_.loop, &req_, file_fd_, &on_fs_done));
}

void StaticExchange::on_index_stat(uv_fs_t* req) {
  auto result = static_cast<int>(req->result);
  FileFacts facts;
  if (result >= 0)
    facts = facts_from(req->statbuf);
  uv_fs_req_cleanup(req);
  if (abandoned())
    return;
  if (result < 0 || !facts.is_regular) {
    list_directory();
    return;
  }
  file_ = facts;
  serve_file("index.html");
}

void StaticExchange::list_directory() {
  file_fd_ = -1; // an index.html that was opened but not used is still closed at the end
  real_check_fallback_ = descriptor_name(target_fd_, real_path_);
  req_.data = this;
  submitted(&StaticExchange::on_listed,
            uv_fs_scandir(context_.loop, &req_, real_check_fallback_.c_str(), 0, &on_fs_done));
}

void StaticExchange::on_listed(uv_fs_t* req) {
  auto result = static_cast<int>(req->result);
  std::vector<ListingEntry> entries;
  if (result >= 0) {
    uv_dirent_t entry;
    while (uv_fs_scandir_next(req, &entry) != UV_EOF)
      entries.push_back({entry.name, entry.type == UV_DIRENT_DIR});
  }
  uv_fs_req_cleanup(req);
  if (abandoned())
    return;
  if (result < 0) {
    context_.log->info(fmt::format("http: error reading directory: {}", uv_strerror(result)));
    answer_text(500, "Error reading directory\n");
    return;
  }
  std::string page = render_listing(std::move(entries));
  HeaderList headers{{"Content-Type", std::string(kHtmlType)}};
  if (target_.mtime)
    headers.push_back({"Last-Modified", http::format_http_date(*target_.mtime)});
  exchange_->send_head(ResponseHead{200, std::move(headers), page.size()});
  exchange_->send_body(page); // dropped by the exchange for HEAD, which keeps the length
  end_response();
}

} // namespace ofwatchdog::modes::static_files
