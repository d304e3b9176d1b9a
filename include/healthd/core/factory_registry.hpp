#pragma once
// Types by name ("type" in the config) -> factory: the one registry behind the probe and heal-action registries.
// Filled once (builtin(), or a test's own), then read-only: `create` is safe from any thread once filled.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace healthd {

// `Error` is thrown for an unknown type: constructible from a message, e.g. std::invalid_argument.
template <typename Product, typename Config, typename Context, typename Error>
class factory_registry {
public:
  using factory = std::function<std::unique_ptr<Product>(const Config&, const Context&)>;

  // `kind` names the types in messages: "probe type", "heal action type".
  explicit factory_registry(std::string kind) : kind_(std::move(kind)) {}

  // Replaces an existing factory of the same type.
  void add(std::string type, factory make) { factories_.insert_or_assign(std::move(type), std::move(make)); }
  [[nodiscard]] bool contains(const std::string& type) const { return factories_.contains(type); }
  // Sorted by name.
  [[nodiscard]] std::vector<std::string> types() const {
    std::vector<std::string> out;
    out.reserve(factories_.size());
    for (const auto& [type, entry] : factories_)
      out.push_back(type);
    return out;
  }

  // Throws Error naming the unknown type and the known ones; the factory's own errors for options it cannot use.
  [[nodiscard]] std::unique_ptr<Product> create(const Config& config, const Context& context) const {
    const auto it = factories_.find(config.type);
    if (it == factories_.end()) {
      std::string known;
      for (const auto& type : types())
        known += (known.empty() ? "" : ", ") + type;
      throw Error("unknown " + kind_ + " \"" + config.type + "\" (known: " + known + ")");
    }
    return it->second(config, context);
  }

private:
  std::string kind_;
  std::map<std::string, factory, std::less<>> factories_;
};

}  // namespace healthd
