#pragma once
// The HTML page for a directory without `index.html`, byte for byte as the original writes it.

#include <string>
#include <vector>

namespace ofwatchdog::modes::static_files {

struct ListingEntry {
  std::string name;
  bool is_directory = false; // a symlink to a directory is not one (it is listed as a file)
};

// `<pre>\n`, one `<a href="HREF">TEXT</a>\n` line per entry sorted by name (bytewise), then
// `</pre>\n`. Directories get a trailing `/`. HREF is the name escaped as a URL path (with `./`
// in front when its first segment holds a `:`, so it cannot read as a scheme) and TEXT is the
// name HTML-escaped.
std::string render_listing(std::vector<ListingEntry> entries);

} // namespace ofwatchdog::modes::static_files
