// Placeholder until the CLI lands.
#include "ofwatchdog/watchdog.hpp"
int main() { return 0; }
