// A main for builds without libFuzzer: runs the fuzz target once on every file of the given
// files and directories, so the committed corpora are regression tests in every build (meson
// test `fuzz-replay-<target>`). A broken invariant aborts, as it does under libFuzzer.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::filesystem::path> inputs_of(const char* argument) {
  std::vector<std::filesystem::path> files;
  std::filesystem::path path(argument);
  if (std::filesystem::is_directory(path)) {
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
      if (entry.is_regular_file()) {
        files.push_back(entry.path());
      }
    }
    // A fixed order, so a failure reproduces the same way everywhere.
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  return files;
}

} // namespace

int main(int argc, char** argv) {
  std::size_t runs = 0;
  for (int i = 1; i < argc; ++i) {
    for (const std::filesystem::path& file : inputs_of(argv[i])) {
      std::ifstream in(file, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "cannot read %s\n", file.c_str());
        return 1;
      }
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      // An allocation of exactly the input's size, as libFuzzer passes it, so that ASan sees a
      // read past the end of the input.
      std::unique_ptr<std::uint8_t[]> exact(new std::uint8_t[bytes.size()]);
      std::copy(bytes.begin(), bytes.end(), exact.get());
      // Printed first, so the input that aborts is the last name in the log.
      std::fprintf(stderr, "%s\n", file.c_str());
      LLVMFuzzerTestOneInput(exact.get(), bytes.size());
      ++runs;
    }
  }
  std::printf("replayed %zu inputs\n", runs);
  return runs > 0 ? 0 : 1;
}
