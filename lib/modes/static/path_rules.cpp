// Path rules for the static mode; see path_rules.hpp.
#include "modes/static/path_rules.hpp"

#include "http/path_clean.hpp"

namespace ofwatchdog::modes::static_files {

bool is_acceptable_path(std::string_view decoded_path) {
  return decoded_path.find('\\') == std::string_view::npos &&
         decoded_path.find('\0') == std::string_view::npos;
}

std::string file_system_path(std::string_view root, std::string_view decoded_path) {
  while (root.size() > 1 && root.back() == '/')
    root.remove_suffix(1);
  // clean_path roots the path and resolves every `..` without ever going above `/`, so the
  // joined name stays lexically inside the root whatever the request said.
  std::string cleaned = http::clean_path(decoded_path);
  while (cleaned.size() > 1 && cleaned.back() == '/')
    cleaned.pop_back();
  if (cleaned == "/")
    return std::string(root);
  if (root == "/")
    return cleaned;
  std::string joined(root);
  joined += cleaned;
  return joined;
}

bool is_under_root(std::string_view real_root, std::string_view real_path) {
  if (real_root.empty() || real_path.empty())
    return false;
  if (real_path == real_root)
    return true;
  if (real_root == "/")
    return real_path.front() == '/';
  return real_path.size() > real_root.size() &&
         real_path.substr(0, real_root.size()) == real_root && real_path[real_root.size()] == '/';
}

std::string_view base_name(std::string_view path) {
  while (path.size() > 1 && path.back() == '/')
    path.remove_suffix(1);
  if (path == "/")
    return path;
  std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

} // namespace ofwatchdog::modes::static_files
