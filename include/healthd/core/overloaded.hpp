#pragma once
// The visitor idiom for std::visit: overloaded{[](const a&) {...}, [](const b&) {...}}.

namespace healthd {

template <typename... F>
struct overloaded : F... {
  using F::operator()...;
};
// Clang 14 (clang-tidy) does not deduce aggregate template arguments by itself.
template <typename... F>
overloaded(F...) -> overloaded<F...>;

}  // namespace healthd
