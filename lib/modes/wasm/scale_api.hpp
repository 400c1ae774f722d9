#pragma once
// The fork's replica endpoints, as pure functions (wasm-replica-endpoints): the `/scale-reader`
// document and the reading of a `/scale-updater` body. The "replicas" of these endpoints are
// mode=wasm's instances, the modules that may run at once in this process.

#include <cstdint>
#include <string>
#include <string_view>

namespace ofwatchdog::modes {

struct ScaleStatus {
  std::string module; // envProcess
  unsigned replicas = 0;
  unsigned available = 0;
};

// `{"envProcess":"<module>","replicas":N,"availableReplicas":M}`, every field always present.
std::string scale_reader_json(const ScaleStatus& status);

struct ScaleRequest {
  enum class Verdict {
    ok,        // replicas is 1..65535
    malformed, // 400 `Cannot parse request. Please pass valid JSON.`
    too_many,  // 500 `Failed to scale function`
  };
  Verdict verdict = Verdict::malformed;
  unsigned replicas = 0;
};

// An object whose "replicas" member (name matched case-insensitively; other members, of any
// kind, ignored) is a whole number. Missing, zero, negative, fractional or exponent forms are
// malformed; above 65535 is too many.
ScaleRequest read_scale_request(std::string_view body);

constexpr std::string_view kScaleMalformedText = "Cannot parse request. Please pass valid JSON.";
constexpr std::string_view kScaleFailedText = "Failed to scale function";

} // namespace ofwatchdog::modes
