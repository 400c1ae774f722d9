#pragma once
// The file system a guest sees: its `/` is a read-only data directory overlaid with a writable
// scratch directory, one Sandbox per instance slot, reused by the slot's requests.
//
// Two host directories, two layers:
//   data    <wasm_root>/data/<module>/ (may be absent): shared by every slot, never written.
//   scratch a directory of this slot's own, emptied by `reset()` before and after each request
//           in which the guest may have created something.
//
// The first component of a path taken from the guest's `/` picks the layer: a name the data
// directory holds is in the data layer, with everything below it; any other name is in the
// scratch layer. So the data entries appear at the root, every change to them (open for
// writing, truncating, creating below a data directory, unlinking, renaming) fails with EROFS,
// and what the guest creates lands in scratch, where a name can never hide a data entry. Only
// listing the root merges the two (fd_readdir: data entries first, then scratch entries).
// Resolution below the first component stays in its layer (see beneath.hpp), so a `..` that
// would cross from one layer to the other finds nothing there (ENOENT).
//
// No data is copied and nothing links into the data directory: a write can never reach it.

#include <memory>
#include <string>
#include <string_view>

#include "util/owned_fd.hpp"

namespace ofwatchdog::wasi {

enum class Layer : std::uint8_t { data, scratch };

struct SandboxSetup {
  // Absolute paths. A missing data directory (or one that is not a directory) means no data
  // entries; the scratch directory is created if missing (its parent must exist).
  std::string data_dir;
  std::string scratch_dir;
};

class Sandbox {
public:
  // nullptr, with `error` naming the directory and the reason, when the scratch directory
  // cannot be made, opened or emptied, or the data directory exists but cannot be opened.
  static std::unique_ptr<Sandbox> open(const SandboxSetup& setup, std::string& error);

  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // -1 when there is no data directory.
  int data_fd() const { return data_.get(); }
  int scratch_fd() const { return scratch_.get(); }
  int layer_fd(Layer layer) const { return layer == Layer::data ? data_fd() : scratch_fd(); }

  // Whether the data directory has an entry `name` (one component, no '/'); a symlink counts
  // as itself, unfollowed.
  bool has_data_entry(std::string_view name) const;

  // Called by the host before any call that may create an entry in the scratch layer (an open
  // that creates or changes a file, mkdir, rename). Only the guest creates there, so until the
  // next such call the directory stays as reset left it.
  void note_change() { changed_ = true; }

  // Removes everything in the scratch directory, at any depth, holding at most two descriptors
  // at a time, when a change was noted since the last reset that succeeded (listing an empty
  // directory costs a dozen system calls, a large part of a small request). False when
  // something could not be removed.
  bool reset();

private:
  Sandbox(OwnedFd data, OwnedFd scratch) : data_(std::move(data)), scratch_(std::move(scratch)) {}

  OwnedFd data_;
  OwnedFd scratch_;
  // True from the start: what an earlier process left behind is swept by open().
  bool changed_ = true;
};

} // namespace ofwatchdog::wasi
