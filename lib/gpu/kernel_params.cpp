// ptx_entry_params and marshal_params: see kernel_params.hpp.
#include "gpu/kernel_params.hpp"

#include <cctype>
#include <cstring>

#include <fmt/format.h>

namespace ofwatchdog::gpu {

namespace {

// PTX's tokens as far as a parameter list needs them: words (with their dots), and single
// punctuation. Comments are skipped.
class PtxTokens {
public:
  explicit PtxTokens(std::string_view text) : text_(text) {}

  std::string_view next() {
    skip_space();
    if (at_ >= text_.size())
      return {};
    std::size_t start = at_;
    if (word_char(text_[at_])) {
      while (at_ < text_.size() && word_char(text_[at_]))
        ++at_;
    } else {
      ++at_;
    }
    return text_.substr(start, at_ - start);
  }

private:
  static bool word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '$' ||
           c == '%';
  }
  void skip_space() {
    while (at_ < text_.size()) {
      if (std::isspace(static_cast<unsigned char>(text_[at_])) != 0) {
        ++at_;
      } else if (text_.substr(at_, 2) == "//") {
        std::size_t end = text_.find('\n', at_);
        at_ = end == std::string_view::npos ? text_.size() : end;
      } else if (text_.substr(at_, 2) == "/*") {
        std::size_t end = text_.find("*/", at_ + 2);
        at_ = end == std::string_view::npos ? text_.size() : end + 2;
      } else {
        return;
      }
    }
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

std::optional<std::size_t> type_size(std::string_view type) {
  if (type.size() < 3 || type[0] != '.')
    return std::nullopt;
  std::string_view bits = type.substr(2);
  if (std::strchr("usbf", type[1]) == nullptr)
    return std::nullopt;
  if (bits == "8")
    return 1;
  if (bits == "16")
    return 2;
  if (bits == "32")
    return 4;
  if (bits == "64")
    return 8;
  return std::nullopt;
}

std::size_t align_up(std::size_t value, std::size_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

// One `.param [.align N] .type [.ptr ...] name [[count]]`, after its `.param`, up to and
// including the `,` or `)` that ends it.
std::optional<ParamSlot> read_param(PtxTokens& tokens, std::size_t& end_offset, bool& last) {
  std::size_t alignment = 0;
  std::optional<std::size_t> element;
  std::size_t count = 1;
  for (std::string_view token = tokens.next(); !token.empty(); token = tokens.next()) {
    if (token == "," || token == ")") {
      last = token == ")";
      break;
    }
    if (token == ".align") {
      std::string_view n = tokens.next();
      alignment = static_cast<std::size_t>(std::strtoul(std::string(n).c_str(), nullptr, 10));
    } else if (token == "[") {
      std::string_view n = tokens.next();
      count = static_cast<std::size_t>(std::strtoul(std::string(n).c_str(), nullptr, 10));
      if (tokens.next() != "]")
        return std::nullopt;
    } else if (!element) {
      element = type_size(token);
    }
  }
  if (!element || count == 0 || count > (1u << 16))
    return std::nullopt;
  std::size_t align = alignment != 0 ? alignment : *element;
  ParamSlot slot{align_up(end_offset, align), *element * count};
  end_offset = slot.offset + slot.size;
  return slot;
}

} // namespace

std::optional<ParamLayout> ptx_entry_params(std::string_view ptx, std::string_view name) {
  PtxTokens tokens(ptx);
  for (std::string_view token = tokens.next(); !token.empty(); token = tokens.next()) {
    if (token != ".entry" || tokens.next() != name)
      continue;
    if (tokens.next() != "(")
      return ParamLayout{}; // an entry without parameters
    ParamLayout layout;
    std::size_t end = 0;
    for (bool last = false; !last;) {
      std::string_view first = tokens.next();
      if (first == ")")
        break;
      if (first != ".param")
        return std::nullopt;
      std::optional<ParamSlot> slot = read_param(tokens, end, last);
      if (!slot)
        return std::nullopt;
      layout.push_back(*slot);
    }
    return layout;
  }
  return std::nullopt;
}

std::variant<Marshalled, MarshalError> marshal_params(const ParamLayout& layout,
                                                      const wasi::GuestView& memory,
                                                      std::uint32_t params,
                                                      const DeviceSpace& space) {
  Marshalled out;
  out.values.resize(layout.size());
  out.pointers.resize(layout.size());
  if (!layout.empty() && !memory.contains_array(params, layout.size(), 4))
    return MarshalError{"the parameter array is outside the guest's memory"};
  for (std::size_t i = 0; i < layout.size(); ++i) {
    std::uint32_t at = *memory.load<std::uint32_t>(params + 4 * i);
    std::size_t size = layout[i].size;
    if (size == 8) {
      std::optional<std::uint32_t> address = memory.load<std::uint32_t>(at);
      if (!address)
        return MarshalError{fmt::format("parameter {} points outside the guest's memory", i)};
      if (*address != 0) {
        std::optional<CuDevicePtr> device = space.translate(*address, 0);
        if (!device)
          return MarshalError{fmt::format("parameter {} is 8 bytes wide and its value is not a "
                                          "device address of this guest",
                                          i)};
        out.values[i] = *device;
      }
    } else if (size == 1 || size == 2 || size == 4) {
      if (!memory.contains(at, size))
        return MarshalError{fmt::format("parameter {} points outside the guest's memory", i)};
      std::memcpy(&out.values[i], memory.bytes(at, size).data(), size);
    } else {
      return MarshalError{fmt::format("parameter {} is {} bytes wide: only 1, 2, 4 and 8-byte "
                                      "parameters can be passed",
                                      i, size)};
    }
    out.pointers[i] = &out.values[i];
  }
  return out;
}

} // namespace ofwatchdog::gpu
