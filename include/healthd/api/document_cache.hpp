#pragma once
// Rendered documents kept as bytes with their ETag, re-rendered only when the state they show has changed: polling
// an unchanged document copies nothing and renders nothing. Thread-safe.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace healthd::api {

struct rendered_document {
  std::shared_ptr<const std::string> body;
  std::string etag;  // strong, quoted: "\"3f2a...\""
};

// A strong ETag derived from the bytes (64-bit FNV-1a, hex, quoted): stable across restarts, so a client's tag
// from a previous process never matches different content.
[[nodiscard]] std::string content_etag(std::string_view bytes);

// Whether an If-None-Match value ("*", a tag, W/ tags, comma-separated lists) matches `etag` (weak comparison, as
// RFC 9110 prescribes for If-None-Match).
[[nodiscard]] bool etag_matches(std::string_view if_none_match, std::string_view etag);

[[nodiscard]] rendered_document make_document(std::string bytes);

// Documents by key (a route plus its normalized parameters), each stamped with the `Version` of the state it was
// rendered from. Holds at most `max_entries`; when full, it starts over (keys are few: routes times parameters).
template <typename Version>
class document_cache {
public:
  explicit document_cache(std::size_t max_entries = 64) : max_entries_(max_entries) {}

  // The document for `key` rendered at `version`: the cached one when its version matches, else `render()`, which
  // returns the bytes. Read `version` before the state that `render` shows, so that a change in between makes the
  // next call render again rather than serve stale bytes forever.
  //
  // `render` runs under the cache's lock, so that concurrent pollers of a changed document wait for one render
  // instead of each rendering it (renders take microseconds and happen once per state change). It must not call
  // back into this cache.
  template <typename Render>
  rendered_document get(const std::string& key, const Version& version, Render&& render) {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(key); it != entries_.end() && it->second.first == version) return it->second.second;
    auto document = make_document(std::forward<Render>(render)());
    ++renders_;
    if (entries_.size() >= max_entries_ && !entries_.contains(key)) entries_.clear();
    entries_.insert_or_assign(key, std::make_pair(version, document));
    return document;
  }

  [[nodiscard]] std::uint64_t renders_for_test() const {
    std::lock_guard lock(mutex_);
    return renders_;
  }

private:
  const std::size_t max_entries_;
  mutable std::mutex mutex_;
  std::map<std::string, std::pair<Version, rendered_document>, std::less<>> entries_;
  std::uint64_t renders_ = 0;
};

}  // namespace healthd::api
