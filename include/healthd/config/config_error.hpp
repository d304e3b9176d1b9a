#pragma once
// The one exception the config loader throws: what is wrong, at which JSON path. Its own header so that the loader
// and the private readers under src/config/ both include it without including each other.

#include <stdexcept>
#include <string>
#include <utility>

namespace healthd::config {

// what() is "<json.path>: <message>", or the message alone for the whole file (path ""). Never contains a secret.
class config_error : public std::runtime_error {
public:
  config_error(std::string path, const std::string& message)
      : std::runtime_error(path.empty() ? message : path + ": " + message), path_(std::move(path)) {}
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
  std::string path_;
};

}  // namespace healthd::config
