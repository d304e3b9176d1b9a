#include "env_substitution.hpp"

#include "secret_rules.hpp"

#include <algorithm>
#include <cctype>

namespace healthd::config::detail {

bool is_env_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front())) != 0) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; });
}

namespace {

std::string substitute_string(std::string_view text, const std::string& path, const env_lookup& env,
                              secret_set& secrets) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      out.push_back(text[i]);
      continue;
    }
    if (text.substr(i, 3) == "$${") {
      out += "${";
      i += 2;
      continue;
    }
    if (text.substr(i, 2) != "${") {
      out.push_back('$');
      continue;
    }
    const auto close = text.find('}', i + 2);
    if (close == std::string_view::npos) fail(path, "unterminated ${ (write ${NAME}, or $${ for a literal ${)");
    const auto inner = text.substr(i + 2, close - i - 2);
    const auto dash = inner.find(":-");
    const auto name = inner.substr(0, dash);
    if (!is_env_name(name))
      fail(path,
           "invalid variable reference in ${...}: expected ${NAME} or ${NAME:-default}, NAME of letters, "
           "digits and _");
    if (auto value = env(std::string(name))) {
      out += *value;
      if (names_a_secret(name)) secrets.add(std::move(*value));
    } else if (dash != std::string_view::npos) {
      out += inner.substr(dash + 2);
    } else {
      fail(path, "environment variable " + std::string(name) + " is not set (used as ${" + std::string(name) +
                     "}; write ${" + std::string(name) + ":-default} to make it optional)");
    }
    i = close;
  }
  return out;
}

}  // namespace

void substitute_env(json& value, const std::string& path, const env_lookup& env, secret_set& secrets) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text.find('$') != std::string::npos) value = substitute_string(text, path, env, secrets);
  } else if (value.is_object()) {
    for (auto& [key, child] : value.items())
      substitute_env(child, child_path(path, key), env, secrets);
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i)
      substitute_env(value[i], index_path(path, i), env, secrets);
  }
}

}  // namespace healthd::config::detail
