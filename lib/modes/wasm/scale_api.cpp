#include "modes/wasm/scale_api.hpp"

#include <fmt/format.h>

#include "util/json_scanner.hpp"
#include "util/strings.hpp"

namespace ofwatchdog::modes {

namespace {

// A JSON string literal of `text` (quotes, backslashes and control characters escaped).
std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20) {
      out += fmt::format("\\u{:04x}", byte);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

} // namespace

std::string scale_reader_json(const ScaleStatus& status) {
  return fmt::format(R"({{"envProcess":{},"replicas":{},"availableReplicas":{}}})",
                     json_string(status.module), status.replicas, status.available);
}

ScaleRequest read_scale_request(std::string_view body) {
  ScaleRequest result;
  JsonScanner json(body);
  std::optional<std::string_view> replicas;
  json.skip_space();
  if (!json.take('{'))
    return result;
  json.skip_space();
  if (!json.take('}')) {
    for (;;) {
      json.skip_space();
      std::optional<std::string> name = json.read_string();
      json.skip_space();
      if (!name || !json.take(':'))
        return result;
      json.skip_space();
      if (iequals(*name, "replicas")) {
        // A later member of the same name wins, as Go's decoder has it.
        replicas = json.read_number();
        if (!replicas)
          return result;
      } else if (!json.skip_value()) {
        return result;
      }
      json.skip_space();
      if (json.take('}'))
        break;
      if (!json.take(','))
        return result;
    }
  }
  json.skip_space();
  if (!json.at_end() || !replicas)
    return result;
  std::string_view digits = *replicas;
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos)
    return result; // negative, fractional or with an exponent
  // Within uint64 (the fork's type); beyond it the fork's decoder fails.
  if (digits.size() > 20 || (digits.size() == 20 && digits > "18446744073709551615"))
    return result;
  std::size_t first = digits.find_first_not_of('0');
  if (first == std::string_view::npos)
    return result; // zero
  digits.remove_prefix(first);
  if (digits.size() > 5 || std::stoul(std::string(digits)) > 65535) {
    result.verdict = ScaleRequest::Verdict::too_many;
    return result;
  }
  result.verdict = ScaleRequest::Verdict::ok;
  result.replicas = static_cast<unsigned>(std::stoul(std::string(digits)));
  return result;
}

} // namespace ofwatchdog::modes
