#include "healthd/config/loader.hpp"

#include "env_substitution.hpp"
#include "sections.hpp"

#include <array>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

namespace healthd::config {

namespace {

using detail::context;
using detail::fail;
using detail::object_reader;

// The top-level sections in reading order: references only point to sections read before (subsystems name loops
// and breakers; maintenance names subsystems). A new section is a schema entry, a reader and a row here.
struct section {
  std::string_view key;
  detail::section_reader read;
};

constexpr std::array sections{
    section{"server", detail::read_server},           section{"loops", detail::read_loops},
    section{"healing", detail::read_healing},         section{"healing_log", detail::read_healing_log},
    section{"breakers", detail::read_breakers},       section{"subsystems", detail::read_subsystems},
    section{"maintenance", detail::read_maintenance},
};

}  // namespace

std::optional<std::string> process_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

daemon_config parse_config(std::string_view text, const env_lookup& env) {
  auto root = detail::parse_json_text(text);
  if (!root.is_object())
    fail("", "expected a JSON object at the top level, got " + std::string(detail::type_name(root)));
  context ctx{env, {}, {}, {}, {}};
  detail::substitute_env(root, "", env, ctx.secrets);

  daemon_config cfg;
  for (const auto& l : cfg.loops)
    ctx.loops.push_back(l.name);
  object_reader r(root, "", {"root"});
  for (const auto& s : sections)
    if (const auto* value = r.find(s.key)) s.read(*value, r.path_of(s.key), ctx, cfg);
  r.finish();
  // Also when the server section is absent: the default variable may hold the token.
  if (cfg.server.admin_token_env)
    if (auto token = env(*cfg.server.admin_token_env)) ctx.secrets.add(std::move(*token));
  cfg.secrets = std::move(ctx.secrets);
  return cfg;
}

daemon_config load_config_file(const std::filesystem::path& file, const env_lookup& env) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    throw config_error("", "cannot read config file \"" + file.string() + "\": it is a directory");
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    const auto reason = std::generic_category().message(errno);
    throw config_error("", "cannot read config file \"" + file.string() + "\": " + reason);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw config_error("", "cannot read config file \"" + file.string() + "\"");
  return parse_config(text.str(), env);
}

}  // namespace healthd::config
