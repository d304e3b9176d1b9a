#pragma once
// Rendered documents kept as bytes with their ETag, re-rendered only when the state they show has changed: polling
// an unchanged document copies nothing and renders nothing. Thread-safe.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
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
// rendered from, in a fixed number of slots chosen by the key's hash (keys are few: routes times parameters; two
// keys sharing a slot evict each other, which costs a render, never a wrong answer).
//
// A hit takes no mutex and allocates nothing: it loads the slot's published entry (std::atomic<std::shared_ptr>)
// and hands out a pointer into it. A miss renders under one mutex, so that concurrent pollers of a changed
// document wait for one render instead of each rendering it.
template <typename Version>
class document_cache {
public:
  explicit document_cache(std::size_t slots = 64)
      : slot_count_(std::max<std::size_t>(slots, 1)), slots_(std::make_unique<slot[]>(slot_count_)) {}

  // The document for `key` rendered at `version`: the cached one when its version matches, else `render()`, which
  // returns the bytes. Read `version` before the state that `render` shows, so that a change in between makes the
  // next call render again rather than serve stale bytes forever. `render` must not call back into this cache.
  template <typename Render>
  std::shared_ptr<const rendered_document> get(std::string_view key, const Version& version, Render&& render) {
    auto& published = slots_[std::hash<std::string_view>{}(key) % slot_count_];
    if (auto hit = current(published, key, version)) return hit;
    std::lock_guard lock(render_mutex_);
    if (auto hit = current(published, key, version)) return hit;  // rendered while we waited
    auto rendered =
        std::make_shared<const entry>(entry{std::string(key), version, make_document(std::forward<Render>(render)())});
    renders_.fetch_add(1, std::memory_order_relaxed);
    published.store(rendered, std::memory_order_release);
    return {rendered, &rendered->document};
  }

  // The cached document for `key` at `version`, or null; never renders.
  [[nodiscard]] std::shared_ptr<const rendered_document> find(std::string_view key, const Version& version) const {
    return current(slots_[std::hash<std::string_view>{}(key) % slot_count_], key, version);
  }

  [[nodiscard]] std::uint64_t renders_for_test() const { return renders_.load(); }

private:
  struct entry {
    std::string key;
    Version version;
    rendered_document document;
  };
  using slot = std::atomic<std::shared_ptr<const entry>>;

  static std::shared_ptr<const rendered_document> current(const slot& published, std::string_view key,
                                                          const Version& version) {
    auto cached = published.load(std::memory_order_acquire);
    if (!cached || !(cached->version == version) || cached->key != key) return nullptr;
    const auto* document = &cached->document;
    return {std::move(cached), document};  // aliasing: shares the entry's count, allocates nothing
  }

  const std::size_t slot_count_;
  std::unique_ptr<slot[]> slots_;
  std::mutex render_mutex_;
  std::atomic<std::uint64_t> renders_{0};
};

}  // namespace healthd::api
