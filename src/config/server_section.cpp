// The `server` section.

#include "sections.hpp"

namespace healthd::config::detail {

void read_server(const json& value, const std::string& path, context& /*ctx*/, daemon_config& cfg) {
  auto& s = cfg.server;
  object_reader r(value, path, {"server"});
  r.read("listen", s.listen);
  if (!parse_listen_address(s.listen))
    fail(r.path_of("listen"), "expected \"host:port\" with a port 1..65535, e.g. \"127.0.0.1:8080\" or \"[::1]:8080\"");
  r.read("threads", s.threads, 1, 64);
  r.read("admin_token_env", s.admin_token_env);
  if (s.admin_token_env) check_env_name(*s.admin_token_env, r.path_of("admin_token_env"));
  r.read("admin_token_file", s.admin_token_file);
  if (s.admin_token_file) check_non_empty(*s.admin_token_file, r.path_of("admin_token_file"), "a file path");
  r.read("static_dir", s.static_dir);
  r.read("cors_origins", s.cors_origins);
  for (std::size_t i = 0; i < s.cors_origins.size(); ++i)
    if (s.cors_origins[i] != "*")
      check_url(s.cors_origins[i], index_path(r.path_of("cors_origins"), i), {"http", "https"},
                "https://soc.example.com");
  r.read("max_connections", s.max_connections, 1, 1000000);
  r.finish();
}

}  // namespace healthd::config::detail
