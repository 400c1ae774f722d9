#pragma once
// The shape of the watchdog's own log lines (`log_format`): the original's text lines with a
// time stamp, or one JSON object per line.

namespace ofwatchdog {

enum class LogFormat { text, json };

} // namespace ofwatchdog
