// StaticExchange, directories: index.html when there is one (and it stays inside the root),
// else the listing. The job (resolve.hpp) has already looked for both; see static_exchange.hpp
// for the whole flow.
#include "modes/static/static_exchange.hpp"

#include <utility>

#include <fmt/format.h>

#include "http/http_date.hpp"
#include "modes/static/conditional.hpp"
#include "modes/static/dir_listing.hpp"
#include "modes/static/static_constants.hpp"

namespace ofwatchdog::modes::static_files {

void StaticExchange::serve_directory() {
  if (not_modified_since(request_.method, request_.headers, result_.target.mtime)) {
    answer_empty(304, {}, std::nullopt);
    return;
  }
  if (result_.has_file) {
    serve_file(); // the index.html, typed by its own name
    return;
  }
  send_listing();
}

void StaticExchange::send_listing() {
  if (result_.list_error < 0) {
    context_.log->info(
        fmt::format("http: error reading directory: {}", uv_strerror(result_.list_error)));
    answer_text(500, "Error reading directory\n");
    return;
  }
  std::string page = render_listing(std::move(result_.entries));
  HeaderList headers{{"Content-Type", std::string(kHtmlType)}};
  if (result_.target.mtime)
    headers.push_back(
        {"Last-Modified", std::string(shared_->last_modified(*result_.target.mtime))});
  exchange_->send_head(ResponseHead{200, std::move(headers), page.size()});
  exchange_->send_body(page); // dropped by the exchange for HEAD, which keeps the length
  end_response();
}

} // namespace ofwatchdog::modes::static_files
