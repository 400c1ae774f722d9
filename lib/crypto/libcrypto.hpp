#pragma once
// OpenSSL 3's libcrypto as a table of the functions the watchdog calls (libcrypto_functions.def).
//
// Dynamic builds do not link libcrypto: it is the largest library the binary would need, the
// dynamic loader would map and relocate it at every start (docs/architecture.md, "Linking", has
// the counts), and only jwt_auth and mode=wasm call it. It is loaded with dlopen at the first
// call of libcrypto(), so a watchdog that uses neither never maps it. The static build
// (OFWATCHDOG_LIBCRYPTO_LINKED, set by meson) links the archive and fills the table with the
// linked functions.
//
// Callers go through the table (`libcrypto(&error)->EVP_Digest(...)`), never the functions of
// the headers, which a dynamic build has no library for: a direct call fails to link.

#include <memory>
#include <string>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

namespace ofwatchdog::crypto {

// The soname a link against OpenSSL 3 would have recorded.
inline constexpr const char* kLibcryptoName = "libcrypto.so.3";

struct LibCrypto {
#define LIBCRYPTO_FUNCTION(name) decltype(&::name) name = nullptr;
#include "crypto/libcrypto_functions.def"
#undef LIBCRYPTO_FUNCTION
};

// The process's libcrypto, loaded at the first call (from any thread) and kept to the end of the
// process. Null when it cannot be loaded, or lacks a function of the table; then `*error` (when
// not null) names the library and says why, and every later call says the same.
const LibCrypto* libcrypto(std::string* error);

// The table, for code that runs only where libcrypto() has succeeded: it holds a key or a
// context the library made. It loads the library if nothing has yet; one that cannot be loaded
// here is a defect of the program, a broken invariant.
const LibCrypto& loaded_libcrypto();

// Loads `library` afresh: libcrypto() is this with kLibcryptoName, once; the tests name a
// library that does not exist. The library stays loaded when this succeeds. The static build
// loads nothing and returns the linked functions, whatever `library` says.
std::unique_ptr<const LibCrypto> load_libcrypto(const char* library, std::string* error);

} // namespace ofwatchdog::crypto
