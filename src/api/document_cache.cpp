#include "healthd/api/document_cache.hpp"

#include <array>

namespace healthd::api {

std::string content_etag(std::string_view bytes) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  constexpr std::array<char, 16> digits{'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  std::string tag(18, '"');
  for (int i = 15; i >= 0; --i) {
    tag[static_cast<std::size_t>(i) + 1] = digits[hash & 0xfU];
    hash >>= 4U;
  }
  return tag;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  const auto opaque = [](std::string_view tag) {
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    return tag;
  };
  const std::string_view wanted = opaque(etag);
  while (!if_none_match.empty()) {
    const auto comma = if_none_match.find(',');
    std::string_view item = if_none_match.substr(0, comma);
    if_none_match = comma == std::string_view::npos ? std::string_view{} : if_none_match.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
      item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
      item.remove_suffix(1);
    if (item == "*" || (!item.empty() && opaque(item) == wanted)) return true;
  }
  return false;
}

rendered_document make_document(std::string bytes) {
  rendered_document document;
  document.etag = content_etag(bytes);
  document.body = std::make_shared<const std::string>(std::move(bytes));
  return document;
}

}  // namespace healthd::api
