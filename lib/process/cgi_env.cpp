// The CGI-style environment of forked functions; see cgi_env.hpp.
#include "process/cgi_env.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <unordered_set>

namespace ofwatchdog::process {

namespace {

bool is_token_char(unsigned char c) {
  if (std::isalnum(c))
    return true;
  constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return kExtra.find(static_cast<char>(c)) != std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The variables only the watchdog may set (docs/decisions.md, cgi-reserved-variables). Headers that
// would produce them are dropped instead of being overridden later, because the watchdog sets some
// of them only sometimes (no `Http_Query` without a query string).
constexpr std::array<std::string_view, 5> kReservedVariables = {
    "Http_Method", "Http_Path", "Http_Query", "Http_Transfer_Encoding", "Http_Host"};

std::string_view entry_name(std::string_view entry) {
  return entry.substr(0, entry.find('='));
}

} // namespace

std::string canonical_header_name(std::string_view name) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
        return is_token_char(static_cast<unsigned char>(c));
      })) {
    return std::string(name);
  }
  std::string out(name);
  bool upper = true;
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    c = static_cast<char>(upper ? std::toupper(u) : std::tolower(u));
    upper = c == '-';
  }
  return out;
}

std::string cgi_variable_name(std::string_view header_name) {
  std::string name = "Http_" + canonical_header_name(header_name);
  std::replace(name.begin() + 5, name.end(), '-', '_');
  return name;
}

std::vector<std::string> build_cgi_environment(const std::vector<std::string>& base,
                                               const Request& request) {
  std::vector<std::string> env = base;
  env.reserve(base.size() + request.headers.size() + 5);

  // Headers in arrival order; only the first value of a repeated header counts.
  std::unordered_set<std::string> seen;
  const std::string* host = nullptr;
  for (const Header& header : request.headers) {
    if (iequals(header.name, "Host")) {
      if (host == nullptr)
        host = &header.value;
      continue;
    }
    std::string name = cgi_variable_name(header.name);
    if (std::find(kReservedVariables.begin(), kReservedVariables.end(), name) !=
        kReservedVariables.end()) {
      continue;
    }
    if (!seen.insert(name).second)
      continue;
    env.push_back(name + "=" + header.value);
  }

  env.push_back("Http_Method=" + request.method);
  if (!request.raw_query.empty())
    env.push_back("Http_Query=" + request.raw_query);
  if (!request.path.empty())
    env.push_back("Http_Path=" + request.path);
  if (request.chunked)
    env.emplace_back("Http_Transfer_Encoding=chunked");
  if (host != nullptr && !host->empty())
    env.push_back("Http_Host=" + *host);

  return dedupe_environment(std::move(env));
}

std::vector<std::string> dedupe_environment(std::vector<std::string> entries) {
  // Walk from the end so the first entry met for a name is the one that wins.
  std::unordered_set<std::string_view> seen;
  std::vector<bool> keep(entries.size(), false);
  for (std::size_t i = entries.size(); i-- > 0;)
    keep[i] = seen.insert(entry_name(entries[i])).second;
  std::vector<std::string> out;
  out.reserve(seen.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (keep[i])
      out.push_back(std::move(entries[i]));
  }
  return out;
}

} // namespace ofwatchdog::process
