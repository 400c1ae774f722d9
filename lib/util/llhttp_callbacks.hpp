#pragma once
// llhttp calls plain functions that receive only the parser. A parser class keeps itself in
// `parser->data`; these templates make a plain callback out of one of its member functions, so
// that the class names its callbacks (`&llhttp_event<&RequestParser::on_message_begin>`) and
// no class writes its own trampolines.

#include <cstddef>

#include <llhttp.h>

namespace ofwatchdog {

namespace detail {
template <typename Member> struct MemberClass;
template <typename Class, typename Result, typename... Args>
struct MemberClass<Result (Class::*)(Args...)> {
  using type = Class;
};
} // namespace detail

// A notification callback (on_message_begin, on_headers_complete, ...).
template <auto Method> int llhttp_event(llhttp_t* parser) {
  using Class = typename detail::MemberClass<decltype(Method)>::type;
  return (static_cast<Class*>(parser->data)->*Method)();
}

// A data callback (on_url, on_header_field, on_body, ...).
template <auto Method> int llhttp_data(llhttp_t* parser, const char* at, std::size_t length) {
  using Class = typename detail::MemberClass<decltype(Method)>::type;
  return (static_cast<Class*>(parser->data)->*Method)(at, length);
}

} // namespace ofwatchdog
