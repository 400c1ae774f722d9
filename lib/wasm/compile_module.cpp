#include "wasm/compile_module.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include <fmt/format.h>

#include "wasm/data_extraction.hpp"
#include "wasm/glue_source.hpp"
#include "wasm/module_abi.h"
#include "wasm/module_check.hpp"
#include "wasm/sha256.hpp"
#include "wasm/tool_run.hpp"

namespace ofwatchdog::wasm {
namespace {

namespace fs = std::filesystem;

// The name given to wasm2c (-n): every generated symbol starts with Z_ofw.
constexpr std::string_view kModuleName = "ofw";

// Flags the engine's safety depends on; not optional. (-shared, or -c for a bundle, comes with
// the output.)
const std::vector<std::string> kRequiredFlags = {
    "-fPIC",
    "-fvisibility=hidden",
    "-fstack-clash-protection",
    "-DNDEBUG",
    "-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=1",
    "-DWASM_RT_USE_STACK_DEPTH_COUNT=0",
    "-w",
};

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find(' ', at);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    if (end > at) {
      words.emplace_back(text.substr(at, end - at));
    }
    at = end + 1;
  }
  return words;
}

std::vector<std::string> compiler_command(const CompileOptions& options) {
  if (!options.compiler.empty()) {
    return split_words(options.compiler);
  }
  const char* from_environment = std::getenv("CC");
  if (from_environment != nullptr && *from_environment != '\0') {
    return split_words(from_environment);
  }
  return {"cc"};
}

bool write_file(const fs::path& path, std::span<const std::uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

bool write_text(const fs::path& path, std::string_view text) {
  return write_file(path, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

std::optional<std::string> read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof())
    return std::nullopt;
  return text;
}

} // namespace

std::optional<Toolchain> probe_toolchain(const CompileOptions& options, std::string* error) {
  Toolchain toolchain;
  toolchain.compiler = compiler_command(options);
  ToolResult wasm2c = run_tool({options.wasm2c, "--version"}, {}, options.cancel);
  if (!wasm2c.succeeded()) {
    *error = tool_failure(options.wasm2c, wasm2c);
    return std::nullopt;
  }
  std::vector<std::string> version_command = toolchain.compiler;
  version_command.emplace_back("--version");
  ToolResult compiler = run_tool(version_command, {}, options.cancel);
  if (!compiler.succeeded()) {
    *error = tool_failure(toolchain.compiler.front(), compiler);
    return std::nullopt;
  }
  std::string identity = fmt::format("abi {}\nwasm2c {}\n", OFW_WASM_ABI_VERSION, wasm2c.output);
  for (const std::string& word : toolchain.compiler) {
    identity += "compiler " + word + "\n";
  }
  identity += compiler.output;
  for (const std::string& flag : options.flags) {
    identity += "flag " + flag + "\n";
  }
  for (const std::string& flag : kRequiredFlags) {
    identity += "required " + flag + "\n";
  }
  std::optional<std::string> key =
      sha256_hex({reinterpret_cast<const std::uint8_t*>(identity.data()), identity.size()}, error);
  if (!key)
    return std::nullopt;
  toolchain.key = key->substr(0, 16);
  return toolchain;
}

namespace {

// Writes wasm2c's output and the glue (glue.c, which includes the rest) into `build`.
std::optional<std::string> write_sources(std::span<const std::uint8_t> bytes,
                                         const InspectedModule& module, const fs::path& build,
                                         const CompileOptions& options,
                                         std::string_view entry_symbol) {
  ExtractedData extracted = extract_active_data(bytes, module.info);
  if (!write_file(build / "module.wasm", extracted.module) ||
      !write_file(build / "image.bin", extracted.image.blob)) {
    return fmt::format("cannot write into {}", build.string());
  }
  ToolResult converted =
      run_tool({options.wasm2c, "module.wasm", "-n", std::string(kModuleName), "-o", "module.c"},
               build.string(), options.cancel);
  if (!converted.succeeded()) {
    return tool_failure(options.wasm2c, converted);
  }
  std::optional<std::string> source = read_text(build / "module.c");
  if (!source) {
    return fmt::format("cannot read {}", (build / "module.c").string());
  }
  // Output without the check we wrap still compiles; its failed indirect calls keep one name.
  if (adapt_wasm2c_output(*source) && !write_text(build / "module.c", *source)) {
    return fmt::format("cannot write into {}", build.string());
  }
  GlueInput glue;
  glue.module = &module;
  glue.image = &extracted.image;
  glue.wasm2c_source = "module.c";
  glue.image_file = "image.bin";
  glue.module_name = kModuleName;
  glue.entry_symbol = entry_symbol;
  if (!write_text(build / "glue.c", generate_glue(glue))) {
    return fmt::format("cannot write into {}", build.string());
  }
  return std::nullopt;
}

// The compiler run over glue.c: the free flags, then the required ones, then `output_flags`.
std::optional<std::string> compile_glue(const Toolchain& toolchain, const fs::path& build,
                                        const CompileOptions& options,
                                        std::initializer_list<const char*> output_flags) {
  std::vector<std::string> command = toolchain.compiler;
  command.insert(command.end(), options.flags.begin(), options.flags.end());
  command.insert(command.end(), kRequiredFlags.begin(), kRequiredFlags.end());
  command.insert(command.end(), output_flags.begin(), output_flags.end());
  ToolResult compiled = run_tool(command, build.string(), options.cancel);
  if (!compiled.succeeded()) {
    return tool_failure(toolchain.compiler.front(), compiled);
  }
  return std::nullopt;
}

} // namespace

CompileResult compile_module(std::span<const std::uint8_t> bytes, const std::string& cache_dir,
                             const CompileOptions& options) {
  CompileResult result;
  // Not the module's fault: said before inspect_module would call it an invalid module.
  if (std::string error; !sha256_available(&error)) {
    result.error = "modules are named by their SHA-256: " + error;
    return result;
  }
  auto inspected = inspect_module(bytes);
  if (auto* error = std::get_if<std::string>(&inspected)) {
    result.error = "invalid module: " + *error;
    result.invalid_module = true;
    return result;
  }
  const InspectedModule& module = std::get<InspectedModule>(inspected);
  result.sha256 = module.sha256;
  result.imports = module.imports;

  std::string error;
  auto toolchain = probe_toolchain(options, &error);
  if (!toolchain) {
    result.error = error;
    return result;
  }
  std::error_code code;
  fs::create_directories(cache_dir, code);
  if (code) {
    result.error =
        fmt::format("cannot create the cache directory {}: {}", cache_dir, code.message());
    return result;
  }
  fs::path object = fs::path(cache_dir) / (module.sha256 + "-" + toolchain->key + ".so");
  result.object_path = object.string();
  if (fs::exists(object, code)) {
    result.from_cache = true;
    return result;
  }

  auto started = std::chrono::steady_clock::now();
  std::string pattern = (fs::path(cache_dir) / ".build-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    result.error =
        fmt::format("cannot create a build directory in {}: {}", cache_dir, std::strerror(errno));
    return result;
  }
  fs::path build = fs::absolute(pattern);
  auto finish = [&](std::optional<std::string> failure) {
    if (!options.keep_build_directory) {
      fs::remove_all(build, code);
    }
    result.error = std::move(failure);
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
  };

  if (auto failure = write_sources(bytes, module, build, options, OFW_WASM_ENTRY_POINT)) {
    return finish(std::move(failure));
  }
  if (auto failure = compile_glue(*toolchain, build, options,
                                  {"-shared", "-o", "module.so", "glue.c", "-lm"})) {
    return finish(std::move(failure));
  }
  fs::rename(build / "module.so", object, code);
  if (code) {
    return finish(
        fmt::format("cannot move the compiled module to {}: {}", object.string(), code.message()));
  }
  return finish(std::nullopt);
}

std::optional<std::string>
compile_bundle_object(std::span<const std::uint8_t> bytes, const InspectedModule& module,
                      const std::string& build_dir, std::string_view entry_symbol,
                      const Toolchain& toolchain, const CompileOptions& options) {
  fs::path build = fs::absolute(build_dir);
  if (auto failure = write_sources(bytes, module, build, options, entry_symbol)) {
    return failure;
  }
  return compile_glue(toolchain, build, options, {"-c", "-o", "module.o", "glue.c"});
}

std::optional<std::string> read_module_file(const std::string& path,
                                            std::vector<std::uint8_t>& bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fmt::format("cannot open {}: {}", path, std::strerror(errno));
  }
  bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) {
    return fmt::format("cannot read {}: {}", path, std::strerror(errno));
  }
  return std::nullopt;
}

CompileResult compile_module_file(const std::string& module_path, const std::string& cache_dir,
                                  const CompileOptions& options) {
  std::vector<std::uint8_t> bytes;
  if (auto error = read_module_file(module_path, bytes)) {
    CompileResult result;
    result.error = std::move(error);
    return result;
  }
  CompileResult result = compile_module(bytes, cache_dir, options);
  if (result.error) {
    result.error = module_path + ": " + *result.error;
  }
  return result;
}

std::string find_compiled_module(const std::string& cache_dir, std::string_view sha256) {
  // The names compile_module gives its objects: <sha256>-<toolchain key>.so.
  std::string prefix = std::string(sha256) + "-";
  std::string found;
  std::error_code code;
  for (const auto& entry : fs::directory_iterator(cache_dir, code)) {
    std::string name = entry.path().filename().string();
    if (name.size() > prefix.size() + 3 && name.compare(0, prefix.size(), prefix) == 0 &&
        name.compare(name.size() - 3, 3, ".so") == 0)
      found = entry.path().string();
  }
  return found;
}

} // namespace ofwatchdog::wasm
