#include "wasm/cow_image.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

namespace ofwatchdog::wasm {

namespace {
std::atomic<std::uint64_t> g_next_cow_image_id{1};
} // namespace

CowImage::CowImage(int fd, std::uint64_t bytes)
    : fd_(fd), bytes_(bytes), id_(g_next_cow_image_id.fetch_add(1)) {}

std::unique_ptr<CowImage> CowImage::build(const ofw_module_v1& module) {
  std::uint64_t data = 0;
  std::uint64_t end = 0;
  for (std::uint32_t i = 0; i < module.data_segment_count; ++i) {
    const ofw_data_segment_v1& segment = module.data_segments[i];
    data += segment.size;
    end = std::max<std::uint64_t>(end, std::uint64_t(segment.guest_offset) + segment.size);
  }
  if (data < kCowThresholdBytes)
    return nullptr;
  auto page = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  std::uint64_t bytes = (end + page - 1) / page * page;
  int fd = memfd_create("ofwatchdog-wasm-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return nullptr;
  std::unique_ptr<CowImage> image(new CowImage(fd, bytes));
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0)
    return nullptr;
  for (std::uint32_t i = 0; i < module.data_segment_count; ++i) {
    const ofw_data_segment_v1& segment = module.data_segments[i];
    std::uint64_t done = 0;
    while (done < segment.size) {
      ssize_t n = pwrite(fd, segment.bytes + done, segment.size - done,
                         static_cast<off_t>(segment.guest_offset + done));
      if (n <= 0)
        return nullptr;
      done += static_cast<std::uint64_t>(n);
    }
  }
  // Sealed, nothing can change the image under the slots that map it: not this process by
  // mistake, not anything that got hold of the descriptor.
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
    return nullptr;
  return image;
}

CowImage::~CowImage() {
  close(fd_);
}

} // namespace ofwatchdog::wasm
