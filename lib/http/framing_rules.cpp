#include "http/framing_rules.hpp"

#include "util/strings.hpp"

namespace ofwatchdog::http {

CodingVerdict judge_transfer_coding(const HeaderList& headers) {
  bool present = false;
  int chunked = 0;
  bool unsupported = false;
  for (const Header& h : headers) {
    if (!iequals(h.name, "Transfer-Encoding"))
      continue;
    present = true;
    std::string_view rest = h.value;
    while (true) {
      std::size_t comma = rest.find(',');
      std::string_view item = trim_ows(rest.substr(0, comma));
      // RFC 9110 §5.6.1 asks recipients to skip empty list members, but a peer that does not
      // would see a different coding list; refusing them costs no real client anything.
      if (item.empty())
        return CodingVerdict::malformed;
      if (iequals(item, "chunked")) {
        ++chunked;
      } else {
        // Parameters (`chunked;q=1`) and every other coding land here: none can be undone.
        unsupported = true;
      }
      if (comma == std::string_view::npos)
        break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (!present)
    return CodingVerdict::none;
  // RFC 9112 §6.1: chunked must not be applied twice.
  if (chunked > 1)
    return CodingVerdict::malformed;
  if (unsupported)
    return CodingVerdict::unsupported;
  return CodingVerdict::chunked;
}

void LineDiscipline::begin_head() {
  previous_ = '\n';
  first_line_ = true;
  tail_count_ = 0;
}

void LineDiscipline::begin_trailers() {
  previous_ = '\n';
  first_line_ = false;
}

namespace {
bool line_end(char c) {
  return c == '\r' || c == '\n';
}
} // namespace

std::string_view LineDiscipline::scan(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    char c = bytes[i];
    if (previous_ == '\r' && c != '\n')
      return "CR not followed by LF";
    if (c == '\n' && previous_ != '\r')
      return "LF without CR";
    if (previous_ == '\n' && !first_line_ && (c == ' ' || c == '\t'))
      return "obs-fold (a line starting with whitespace)";
    if (c == '\r' || c == '\n') {
      if (c == '\n')
        first_line_ = false;
      previous_ = c;
      ++i;
      continue;
    }
    // The rest of the line up to its CR or LF holds nothing to judge: only the byte after a
    // line end is. It is skipped whole; the request line leaves its last bytes in the tail.
    std::size_t end = i + 1;
    while (end < bytes.size() && !line_end(bytes[end]))
      ++end;
    if (first_line_)
      keep_in_tail(bytes.substr(i, end - i));
    previous_ = bytes[end - 1];
    i = end;
  }
  return {};
}

void LineDiscipline::keep_in_tail(std::string_view run) {
  // Only the last kTailBytes can still be in the ring once the run is in.
  std::size_t skipped = run.size() > kTailBytes ? run.size() - kTailBytes : 0;
  tail_count_ += skipped;
  for (char c : run.substr(skipped)) {
    tail_[tail_count_ % kTailBytes] = c;
    ++tail_count_;
  }
}

bool LineDiscipline::request_line_is_http() const {
  if (tail_count_ < kTailBytes)
    return false;
  // The ring's oldest byte sits where the next one would be written.
  char tail[kTailBytes];
  for (std::size_t i = 0; i < kTailBytes; ++i)
    tail[i] = tail_[(tail_count_ + i) % kTailBytes];
  std::string_view text(tail, kTailBytes);
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  return text.substr(0, 6) == " HTTP/" && digit(text[6]) && text[7] == '.' && digit(text[8]);
}

} // namespace ofwatchdog::http
