#pragma once
// A cursor over a module's bytes that reads the binary format's primitives (LEB128 integers,
// names, byte vectors). A read past the end or an over-long integer sets `failed` and returns
// zero, so a parser can read a whole construct and check once.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace ofwatchdog::wasm {

class ByteReader {
public:
  ByteReader(std::span<const std::uint8_t> bytes, std::size_t position, std::size_t end)
      : bytes_(bytes), position_(position), end_(end <= bytes.size() ? end : bytes.size()) {}

  bool failed() const { return failed_; }
  bool at_end() const { return position_ >= end_; }
  std::size_t position() const { return position_; }
  std::size_t end() const { return end_; }
  std::size_t remaining() const { return position_ < end_ ? end_ - position_ : 0; }

  std::uint8_t byte() {
    if (position_ >= end_) {
      failed_ = true;
      return 0;
    }
    return bytes_[position_++];
  }

  std::uint32_t u32() { return static_cast<std::uint32_t>(unsigned_leb(32)); }

  // A signed LEB128 of at most `bits` bits (i32.const's operand), sign-extended.
  std::int64_t signed_leb(unsigned bits) {
    std::int64_t result = 0;
    unsigned shift = 0;
    std::uint8_t current = 0;
    do {
      if (shift >= (bits + 6) / 7 * 7) {
        failed_ = true;
        return 0;
      }
      current = byte();
      result |= std::int64_t(current & 0x7f) << shift;
      shift += 7;
    } while ((current & 0x80) != 0 && !failed_);
    if (shift < 64 && (current & 0x40) != 0) {
      result |= -(std::int64_t(1) << shift);
    }
    return result;
  }

  // A length-prefixed byte vector, returned as its offset in the module; skipped over.
  std::span<const std::uint8_t> vector() {
    std::uint32_t size = u32();
    if (failed_ || size > remaining()) {
      failed_ = true;
      return {};
    }
    auto data = bytes_.subspan(position_, size);
    position_ += size;
    return data;
  }

  std::string_view name() {
    auto data = vector();
    return {reinterpret_cast<const char*>(data.data()), data.size()};
  }

  void seek(std::size_t position) { position_ = position; }

  void skip(std::size_t count) {
    if (count > remaining()) {
      failed_ = true;
      position_ = end_;
      return;
    }
    position_ += count;
  }

private:
  std::uint64_t unsigned_leb(unsigned bits) {
    std::uint64_t result = 0;
    unsigned shift = 0;
    while (true) {
      if (shift >= bits) {
        failed_ = true;
        return 0;
      }
      std::uint8_t current = byte();
      if (failed_) {
        return 0;
      }
      result |= std::uint64_t(current & 0x7f) << shift;
      shift += 7;
      if ((current & 0x80) == 0) {
        break;
      }
    }
    if (bits < 64 && (result >> bits) != 0) {
      failed_ = true;
      return 0;
    }
    return result;
  }

  std::span<const std::uint8_t> bytes_;
  std::size_t position_;
  std::size_t end_;
  bool failed_ = false;
};

} // namespace ofwatchdog::wasm
