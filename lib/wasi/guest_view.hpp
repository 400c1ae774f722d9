#pragma once
// Bounds-checked access to guest memory during one host call.
//
// Every guest pointer and length comes from the guest and is untrusted. A range is inside when
// `ptr <= size && len <= size - ptr`: 64-bit arithmetic with no sum that could wrap, so a
// pointer near 2^32 with a length near 2^32 is refused rather than folded back into memory.
// Callers check every range before they act (read stdin, write a file), so a bad output pointer
// fails with EFAULT before any byte of the request is consumed.
//
// Values are copied with memcpy: the guest's pointers need no alignment.

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

#include "wasi/host_call.hpp"

namespace ofwatchdog::wasi {

class GuestView {
public:
  explicit GuestView(GuestMemory memory) : memory_(memory) {}

  bool contains(std::uint64_t ptr, std::uint64_t len) const {
    return ptr <= memory_.size && len <= memory_.size - ptr;
  }
  // A range of `count` elements of `element` bytes each; false also when the product overflows.
  bool contains_array(std::uint64_t ptr, std::uint64_t count, std::uint64_t element) const {
    if (count != 0 && element > UINT64_MAX / count)
      return false;
    return contains(ptr, count * element);
  }

  // The bytes of a range already checked with `contains`.
  std::span<std::uint8_t> bytes(std::uint64_t ptr, std::uint64_t len) const {
    return {memory_.data + ptr, static_cast<std::size_t>(len)};
  }
  std::string_view text(std::uint64_t ptr, std::uint64_t len) const {
    return {reinterpret_cast<const char*>(memory_.data + ptr), static_cast<std::size_t>(len)};
  }

  // A trivially copyable value at `ptr`; nullopt when it does not fit.
  template <typename T> std::optional<T> load(std::uint64_t ptr) const {
    static_assert(std::is_trivially_copyable_v<T>);
    if (!contains(ptr, sizeof(T)))
      return std::nullopt;
    T value;
    std::memcpy(&value, memory_.data + ptr, sizeof(T));
    return value;
  }
  // Stores `value` at `ptr`; false (nothing written) when it does not fit.
  template <typename T> bool store(std::uint64_t ptr, const T& value) const {
    static_assert(std::is_trivially_copyable_v<T>);
    if (!contains(ptr, sizeof(T)))
      return false;
    std::memcpy(memory_.data + ptr, &value, sizeof(T));
    return true;
  }
  // Copies `len` bytes from `source`; false (nothing written) when they do not fit. For strings
  // and for a record cut short by the end of the guest's buffer.
  bool store_bytes(std::uint64_t ptr, const void* source, std::uint64_t len) const {
    if (!contains(ptr, len))
      return false;
    if (len != 0)
      std::memcpy(memory_.data + ptr, source, static_cast<std::size_t>(len));
    return true;
  }

private:
  GuestMemory memory_;
};

} // namespace ofwatchdog::wasi
