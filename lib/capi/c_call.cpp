// The C ABI's calls on one request, made on the thread running its handler. Each checks its
// arguments and the response's state first, so that no call, however wrong, produces a
// malformed response: it returns an error and nothing is sent.
#include <string>

#include "capi/c_boundary.hpp"

namespace {

using ofwatchdog::capi::guarded;
using ofwatchdog::capi::set;
using ofwatchdog::capi::view;

int request_field(const ofw_call* call, ofw_str* out, std::string ofwatchdog::Request::*field) {
  if (call == nullptr || out == nullptr)
    return OFW_EINVAL;
  set(out, call->call.request().*field);
  return OFW_OK;
}

// The C caller's headers, or nothing when a pointer is NULL with a size.
std::optional<ofwatchdog::HeaderList> copy_headers(const ofw_header* headers, size_t count) {
  if (headers == nullptr && count != 0)
    return std::nullopt;
  ofwatchdog::HeaderList list;
  list.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    auto name = view(headers[i].name.data, headers[i].name.size);
    auto value = view(headers[i].value.data, headers[i].value.size);
    if (!name || !value)
      return std::nullopt;
    list.push_back({std::string(*name), std::string(*value)});
  }
  return list;
}

// What a refused write or read means: the call was stopped, or the caller asked too much.
int refused(const ofw_call& call) {
  return call.call.stop_token().stop_requested() ? OFW_ECANCELLED : OFW_ESTATE;
}

int send_head(ofw_call* call, int status, const ofw_header* headers, size_t count,
              std::optional<std::uint64_t> content_length) {
  if (call->response != ofw_call::Response::none)
    return OFW_ESTATE;
  auto list = copy_headers(headers, count);
  if (!list || ofwatchdog::check_response_head(status, *list))
    return OFW_EINVAL;
  if (!call->call.send_head(status, std::move(*list), content_length))
    return refused(*call);
  call->response = ofw_call::Response::head_sent;
  return OFW_OK;
}

} // namespace

extern "C" {

int ofw_call_method(const ofw_call* call, ofw_str* out) {
  return request_field(call, out, &ofwatchdog::Request::method);
}
int ofw_call_path(const ofw_call* call, ofw_str* out) {
  return request_field(call, out, &ofwatchdog::Request::path);
}
int ofw_call_query(const ofw_call* call, ofw_str* out) {
  return request_field(call, out, &ofwatchdog::Request::raw_query);
}
int ofw_call_target(const ofw_call* call, ofw_str* out) {
  return request_field(call, out, &ofwatchdog::Request::target);
}

int ofw_call_call_id(const ofw_call* call, ofw_str* out) {
  if (call == nullptr || out == nullptr)
    return OFW_EINVAL;
  set(out, call->call.call_id());
  return OFW_OK;
}

int ofw_call_header(const ofw_call* call, const char* name, size_t name_size, ofw_str* out) {
  if (call == nullptr || out == nullptr || name == nullptr)
    return OFW_EINVAL;
  const std::string* value = call->call.request().header(std::string_view(name, name_size));
  if (value == nullptr)
    return OFW_ENOTFOUND;
  set(out, *value);
  return OFW_OK;
}

int ofw_call_header_count(const ofw_call* call) {
  if (call == nullptr)
    return OFW_EINVAL;
  return static_cast<int>(call->call.request().headers.size());
}

int ofw_call_header_at(const ofw_call* call, size_t index, ofw_header* out) {
  if (call == nullptr || out == nullptr)
    return OFW_EINVAL;
  const ofwatchdog::HeaderList& headers = call->call.request().headers;
  if (index >= headers.size())
    return OFW_EINVAL;
  set(&out->name, headers[index].name);
  set(&out->value, headers[index].value);
  return OFW_OK;
}

long long ofw_call_read(ofw_call* call, void* buffer, size_t capacity) {
  if (call == nullptr || buffer == nullptr || capacity == 0)
    return OFW_EINVAL;
  return guarded([&]() -> long long {
    ofwatchdog::WorkRead got = call->call.read(static_cast<char*>(buffer), capacity);
    switch (got.status) {
    case ofwatchdog::WorkStatus::ok:
      return static_cast<long long>(got.size);
    case ofwatchdog::WorkStatus::end:
      return 0;
    case ofwatchdog::WorkStatus::cancelled:
      break;
    }
    return OFW_ECANCELLED;
  });
}

long long ofw_call_time_left_ms(const ofw_call* call) {
  if (call == nullptr)
    return OFW_EINVAL;
  std::optional<ofwatchdog::Duration> left = call->call.time_left();
  if (!left)
    return -1;
  return std::chrono::duration_cast<std::chrono::milliseconds>(*left).count();
}

int ofw_call_stopped(const ofw_call* call) {
  if (call == nullptr)
    return OFW_EINVAL;
  return call->call.stop_token().stop_requested() ? 1 : 0;
}

int ofw_call_send_head(ofw_call* call, int status, const ofw_header* headers, size_t count,
                       long long content_length) {
  if (call == nullptr)
    return OFW_EINVAL;
  return guarded([&] {
    std::optional<std::uint64_t> length;
    if (content_length >= 0)
      length = static_cast<std::uint64_t>(content_length);
    return send_head(call, status, headers, count, length);
  });
}

int ofw_call_write(ofw_call* call, const void* data, size_t size) {
  if (call == nullptr || (data == nullptr && size != 0))
    return OFW_EINVAL;
  return guarded([&] {
    if (size == 0)
      return OFW_OK;
    call->response = ofw_call::Response::head_sent; // a write sends the 200 head if none was
    if (!call->call.write(std::string_view(static_cast<const char*>(data), size)))
      return refused(*call);
    return OFW_OK;
  });
}

int ofw_call_respond(ofw_call* call, int status, const ofw_header* headers, size_t count,
                     const void* body, size_t size) {
  if (call == nullptr || (body == nullptr && size != 0))
    return OFW_EINVAL;
  return guarded([&] {
    int result = send_head(call, status, headers, count, size);
    if (result != OFW_OK || size == 0)
      return result;
    if (!call->call.write(std::string_view(static_cast<const char*>(body), size)))
      return refused(*call);
    return OFW_OK;
  });
}

int ofw_call_fail(ofw_call* call, const char* why, size_t why_size) {
  if (call == nullptr)
    return OFW_EINVAL;
  auto text = view(why, why_size);
  if (!text)
    return OFW_EINVAL;
  return guarded([&] {
    call->call.fail(*text);
    return OFW_OK;
  });
}

int ofw_call_log(ofw_call* call, const char* line, size_t size) {
  if (call == nullptr)
    return OFW_EINVAL;
  auto text = view(line, size);
  if (!text)
    return OFW_EINVAL;
  return guarded([&] {
    call->call.log(*text);
    return OFW_OK;
  });
}

} // extern "C"
