#include "wasm/wasi_signatures.hpp"

#include <array>
#include <string>

namespace ofwatchdog::wasm {
namespace {

// Each function's parameter list as a constant array, named after the function.
namespace params {
constexpr ValueType i32 = ValueType::i32;
constexpr ValueType i64 = ValueType::i64;
template <ValueType... types> constexpr std::array<ValueType, sizeof...(types)> list{types...};
#define WASI_FUNCTION(name, result, ...) constexpr auto name = list<__VA_ARGS__>;
#include "wasi/wasi_functions.def"
#undef WASI_FUNCTION
} // namespace params

// The result column of the list is a token, `i32` or `void`.
#define OFW_WASI_RETURNS_i32 true
#define OFW_WASI_RETURNS_void false
constexpr WasiSignature kSignatures[] = {
#define WASI_FUNCTION(name, result, ...)                                                           \
  {#name, wasi::Function::name, OFW_WASI_RETURNS_##result, params::name},
#include "wasi/wasi_functions.def"
#undef WASI_FUNCTION
};
#undef OFW_WASI_RETURNS_i32
#undef OFW_WASI_RETURNS_void

static_assert(std::size(kSignatures) == wasi::kFunctionCount);

const char* type_name(ValueType type) {
  switch (type) {
  case ValueType::i32:
    return "i32";
  case ValueType::i64:
    return "i64";
  case ValueType::f32:
    return "f32";
  case ValueType::f64:
    return "f64";
  case ValueType::v128:
    return "v128";
  case ValueType::funcref:
    return "funcref";
  case ValueType::externref:
    return "externref";
  }
  return "?";
}

} // namespace

std::span<const WasiSignature> wasi_signatures() {
  return kSignatures;
}

const WasiSignature* find_wasi_function(std::string_view name) {
  for (const WasiSignature& signature : kSignatures) {
    if (signature.name == name) {
      return &signature;
    }
  }
  return nullptr;
}

FuncType type_of(const WasiSignature& signature) {
  FuncType type;
  type.params.assign(signature.params.begin(), signature.params.end());
  if (signature.returns_i32) {
    type.results.push_back(ValueType::i32);
  }
  return type;
}

bool matches(const WasiSignature& signature, const FuncType& type) {
  return type_of(signature) == type;
}

std::string describe(const FuncType& type) {
  std::string text = "(";
  for (std::size_t i = 0; i < type.params.size(); ++i) {
    text += i == 0 ? "" : ", ";
    text += type_name(type.params[i]);
  }
  text += ") -> ";
  if (type.results.empty()) {
    return text + "()";
  }
  if (type.results.size() == 1) {
    return text + type_name(type.results[0]);
  }
  text += "(";
  for (std::size_t i = 0; i < type.results.size(); ++i) {
    text += i == 0 ? "" : ", ";
    text += type_name(type.results[i]);
  }
  return text + ")";
}

} // namespace ofwatchdog::wasm
