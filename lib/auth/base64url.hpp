#pragma once
// base64url without padding (RFC 7515 §2, RFC 4648 §5): the encoding of every part of a token
// and of the numbers of a JSON Web Key.

#include <optional>
#include <string>
#include <string_view>

namespace ofwatchdog::auth {

// The bytes `text` encodes, or nothing when it holds a character outside the alphabet, padding,
// or a length no encoding gives (one character past a multiple of four).
std::optional<std::string> decode_base64url(std::string_view text);

} // namespace ofwatchdog::auth
