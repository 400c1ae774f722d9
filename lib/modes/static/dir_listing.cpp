// Directory listings; see dir_listing.hpp.
#include "modes/static/dir_listing.hpp"

#include <algorithm>

#include "http/path_clean.hpp"

namespace ofwatchdog::modes::static_files {

std::string render_listing(std::vector<ListingEntry> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const ListingEntry& a, const ListingEntry& b) { return a.name < b.name; });
  std::string page = "<pre>\n";
  for (const ListingEntry& entry : entries) {
    std::string name = entry.name;
    if (entry.is_directory)
      name += '/';
    std::string href = http::escape_path(name);
    std::size_t colon = href.find(':');
    if (colon != std::string::npos && href.find('/') > colon)
      href.insert(0, "./");
    page += "<a href=\"";
    page += href;
    page += "\">";
    page += http::html_escape(name);
    page += "</a>\n";
  }
  page += "</pre>\n";
  return page;
}

} // namespace ofwatchdog::modes::static_files
