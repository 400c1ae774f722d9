// The `wasm-compile` command: its words read into the library's compile and bundle calls.
#include "wasm_compile_command.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "ofwatchdog/config.hpp"
#include "ofwatchdog/wasm_compile.hpp"

namespace ofwatchdog::cli {

std::string wasm_compile_usage(std::string_view program) {
  return fmt::format(
      "       {0} wasm-compile MODULE [--cache DIR]\n"
      "\n"
      "Compiles a WASI module for mode=wasm into its cache (DIR, else $wasm_cache, else\n"
      "$wasm_root/cache, /wasm_root/cache by default), e.g. in an image build, so that the\n"
      "watchdog serves it at once and needs no C compiler at run time.\n"
      "\n"
      "       {0} wasm-compile --bundle MODULE... -o PROGRAM [--kit DIR]\n"
      "\n"
      "Compiles the modules and links them into PROGRAM, a copy of this watchdog that serves\n"
      "them compiled with no cache, no compiler and no dynamic loader (a module file mode=wasm\n"
      "is given is served by the bundled code built from the same bytes). DIR is the link kit\n"
      "scripts/build-static leaves beside the program, <its directory>/bundle-kit by default.\n",
      program);
}

namespace {

struct CompileArguments {
  std::vector<std::string> modules;
  std::string cache;
  std::string output;
  std::string kit;
  bool bundle = false;
};

// "--name VALUE", "--name=VALUE", or one dash; true when `args[i]` was it.
bool take_value(const std::vector<std::string>& args, std::size_t& i, std::string_view name,
                std::string& value, bool& missing) {
  std::string_view arg = args[i];
  if (arg.empty() || arg[0] != '-')
    return false;
  std::string_view bare = arg.substr(arg.rfind("--", 0) == 0 ? 2 : 1);
  if (bare.substr(0, name.size()) != name)
    return false;
  std::string_view rest = bare.substr(name.size());
  if (rest.empty()) {
    if (i + 1 >= args.size()) {
      missing = true;
      return true;
    }
    value = args[++i];
    return true;
  }
  if (rest[0] != '=')
    return false;
  value = rest.substr(1);
  return true;
}

} // namespace

int wasm_compile_command(std::string_view program, const std::vector<std::string>& args,
                         const std::vector<std::string>& environment) {
  CompileArguments parsed;
  parsed.cache = find_variable(environment, "wasm_cache").value_or("");
  auto usage = [&](const std::string& why) {
    fmt::print(stderr, "wasm-compile: {}\nUsage:\n{}", why, wasm_compile_usage(program));
    return 2;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    bool missing = false;
    if (arg == "--bundle" || arg == "-bundle") {
      parsed.bundle = true;
    } else if (take_value(args, i, "cache", parsed.cache, missing) ||
               take_value(args, i, "kit", parsed.kit, missing) ||
               take_value(args, i, "o", parsed.output, missing) ||
               take_value(args, i, "output", parsed.output, missing)) {
      if (missing)
        return usage(fmt::format("{} needs a value", arg));
    } else if (!arg.empty() && arg[0] != '-') {
      parsed.modules.push_back(arg);
    } else {
      return usage(fmt::format("unexpected argument {}", arg));
    }
  }
  if (parsed.modules.empty())
    return usage(parsed.bundle ? "name the modules to bundle" : "name the module to compile");

  if (parsed.bundle) {
    if (parsed.output.empty())
      return usage("name the program to write with -o");
    WasmBundleResult result = bundle_wasm_modules(parsed.modules, parsed.output, parsed.kit);
    if (!result.ok) {
      fmt::print(stderr, "wasm-compile: {}\n", result.error);
      return 1;
    }
    for (std::size_t i = 0; i < result.sha256.size(); ++i)
      fmt::print("bundled sha256 {}\n", result.sha256[i]);
    fmt::print("{} written in {:.2f}s, serving {} bundled module{}\n", parsed.output,
               result.seconds, result.sha256.size(), result.sha256.size() == 1 ? "" : "s");
    return 0;
  }
  if (parsed.modules.size() > 1 || !parsed.output.empty() || !parsed.kit.empty())
    return usage("one module at a time goes into the cache; -o and --kit are for --bundle");
  if (parsed.cache.empty()) {
    std::string_view root = find_variable(environment, "wasm_root").value_or("");
    parsed.cache = fmt::format("{}/cache", root.empty() ? "/wasm_root" : root);
  }
  const std::string& module = parsed.modules.front();
  WasmCompileResult result = compile_wasm_module(module, parsed.cache);
  if (!result.ok) {
    fmt::print(stderr, "wasm-compile: {}\n", result.error);
    return 1;
  }
  if (result.from_cache)
    fmt::print("{} (sha256 {}) is compiled already: {}\n", module, result.sha256,
               result.object_path);
  else
    fmt::print("{} (sha256 {}) compiled in {:.2f}s: {}\n", module, result.sha256, result.seconds,
               result.object_path);
  return 0;
}

} // namespace ofwatchdog::cli
