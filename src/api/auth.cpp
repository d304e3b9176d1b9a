#include "healthd/api/auth.hpp"

#include "healthd/api/http_message.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace healthd::api {

namespace {

std::string read_token_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw admin_token_error("server.admin_token_file: cannot read " + path + ": " + std::strerror(errno));
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw admin_token_error("server.admin_token_file: cannot read " + path);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  return text;
}

}  // namespace

std::optional<std::string> load_admin_token(const config::server_config& server, const token_env_lookup& env) {
  std::optional<std::string> token;
  if (server.admin_token_file) {
    token = read_token_file(*server.admin_token_file);
  } else if (server.admin_token_env && env) {
    token = env(*server.admin_token_env);
  }
  if (token && token->empty()) token.reset();
  return token;
}

bool constant_time_equal(std::string_view expected, std::string_view presented) noexcept {
  // Walk the presented token's length whatever the expected one is; fold the length difference in.
  unsigned difference = expected.size() == presented.size() ? 0U : 1U;
  for (std::size_t i = 0; i < presented.size(); ++i) {
    const auto e = i < expected.size() ? static_cast<unsigned char>(expected[i]) : 0U;
    difference |= e ^ static_cast<unsigned char>(presented[i]);
  }
  return difference == 0;
}

admin_auth check_admin(std::optional<std::string_view> authorization, const std::optional<std::string>& token) {
  if (!token) return admin_auth::disabled;
  if (!authorization) return admin_auth::missing;
  std::string_view value = *authorization;
  constexpr std::string_view scheme = "bearer";
  if (value.size() <= scheme.size() || !iequals(value.substr(0, scheme.size()), scheme) ||
      (value[scheme.size()] != ' ' && value[scheme.size()] != '\t')) {
    return admin_auth::missing;
  }
  value.remove_prefix(scheme.size());
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.remove_suffix(1);
  if (value.empty()) return admin_auth::missing;
  return constant_time_equal(*token, value) ? admin_auth::granted : admin_auth::wrong;
}

}  // namespace healthd::api
