#include "auth/denial.hpp"

namespace ofwatchdog::auth {

std::string_view denial_label(Denial denial) {
  switch (denial) {
  case Denial::missing:
    return "missing";
  case Denial::too_large:
    return "too_large";
  case Denial::malformed:
    return "malformed";
  case Denial::algorithm:
    return "algorithm";
  case Denial::unknown_key:
    return "unknown_key";
  case Denial::signature:
    return "signature";
  case Denial::expired:
    return "expired";
  case Denial::not_yet_valid:
    return "not_yet_valid";
  case Denial::issuer:
    return "issuer";
  case Denial::audience:
    return "audience";
  case Denial::permissions:
    return "permissions";
  }
  return "unknown";
}

std::string_view denial_text(Denial denial) {
  switch (denial) {
  case Denial::missing:
    return "no bearer token";
  case Denial::too_large:
    return "the token is too large";
  case Denial::malformed:
    return "the token is malformed";
  case Denial::algorithm:
    return "the signing algorithm is not accepted";
  case Denial::unknown_key:
    return "no key of the issuer has the token's kid";
  case Denial::signature:
    return "the signature does not verify";
  case Denial::expired:
    return "the token has expired";
  case Denial::not_yet_valid:
    return "the token is not valid yet";
  case Denial::issuer:
    return "the token's issuer is not the gateway's";
  case Denial::audience:
    return "the token's audience does not hold the issuer";
  case Denial::permissions:
    return "insufficient permissions";
  }
  return "refused";
}

int denial_status(Denial denial) {
  return denial == Denial::permissions ? 403 : 401;
}

} // namespace ofwatchdog::auth
