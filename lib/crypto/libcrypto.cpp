// libcrypto, loaded_libcrypto, load_libcrypto: see libcrypto.hpp.
#include "crypto/libcrypto.hpp"

#include <dlfcn.h>

#include <type_traits>

#include <fmt/format.h>

#include "util/invariant.hpp"

namespace ofwatchdog::crypto {

#ifdef OFWATCHDOG_LIBCRYPTO_LINKED
std::unique_ptr<const LibCrypto> load_libcrypto(const char*, std::string*) {
  auto table = std::make_unique<LibCrypto>();
#define LIBCRYPTO_FUNCTION(name) table->name = &::name;
#include "crypto/libcrypto_functions.def"
#undef LIBCRYPTO_FUNCTION
  return table;
}
#else
namespace {
// The version a link against OpenSSL 3.0's headers binds every function of the table to: dlvsym
// with it finds the same definitions the linker would have, whatever later 3.x releases add.
constexpr const char* kSymbolVersion = "OPENSSL_3.0.0";
} // namespace

std::unique_ptr<const LibCrypto> load_libcrypto(const char* library, std::string* error) {
  // RTLD_LOCAL: nothing of libcrypto may interpose on the watchdog's own symbols. RTLD_NOW: a
  // library that cannot be bound fails here, not at the first signature check.
  void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    if (error != nullptr)
      *error = fmt::format("cannot load {}: {}", library, dlerror());
    return nullptr;
  }
  auto table = std::make_unique<LibCrypto>();
  const char* missing = nullptr;
  auto bind = [&](auto& entry, const char* name) {
    if (missing != nullptr)
      return;
    entry = reinterpret_cast<std::remove_reference_t<decltype(entry)>>(
        dlvsym(handle, name, kSymbolVersion));
    if (entry == nullptr)
      missing = name;
  };
#define LIBCRYPTO_FUNCTION(name) bind(table->name, #name);
#include "crypto/libcrypto_functions.def"
#undef LIBCRYPTO_FUNCTION
  if (missing != nullptr) {
    if (error != nullptr)
      *error = fmt::format("cannot load {}: {}", library, dlerror());
    dlclose(handle);
    return nullptr;
  }
  // The handle is never closed: keys and contexts the library made may live to the end.
  return table;
}
#endif

namespace {

struct Loaded {
  std::unique_ptr<const LibCrypto> table;
  std::string error;
};

const Loaded& loaded() {
  // Never destroyed: a key set held by a static object may free its keys after this would be.
  static const Loaded* const once = [] {
    auto* l = new Loaded;
    l->table = load_libcrypto(kLibcryptoName, &l->error);
    return l;
  }();
  return *once;
}

} // namespace

const LibCrypto* libcrypto(std::string* error) {
  const Loaded& l = loaded();
  if (l.table == nullptr && error != nullptr)
    *error = l.error;
  return l.table.get();
}

const LibCrypto& loaded_libcrypto() {
  const LibCrypto* table = loaded().table.get();
  OFW_INVARIANT(table != nullptr, "libcrypto was loaded before anything it made was used");
  return *table;
}

} // namespace ofwatchdog::crypto
