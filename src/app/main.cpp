// platform-healthd: parses the command line and hands over to the daemon. Nothing else lives here.

#include "healthd/app/daemon.hpp"
#include "healthd/config/loader.hpp"
#include "healthd/version.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>
#include <map>

int main(int argc, char** argv) {
  using namespace healthd;
  CLI::App cli{"platform-healthd: self-healing health daemon for the security platform"};
  app::daemon_options options;
  options.config_file = "/etc/platform-healthd/platform-healthd.json";
  bool check_only = false;
  std::string log_level = "info";
  std::string listen;

  cli.add_option("-c,--config", options.config_file, "Config file (JSON with comments)")->capture_default_str();
  cli.add_flag("--check", check_only, "Validate the config, print what would be monitored, and exit (0 valid, 2 not)");
  cli.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  cli.add_option("--listen", listen, "Override server.listen (HOST:PORT)");
  cli.set_version_flag("--version", std::string{version_string});

  try {
    cli.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    (void)cli.exit(e);
    return app::exit_config_error;
  }
  if (!listen.empty()) options.listen_override = listen;
  spdlog::set_level(spdlog::level::from_str(log_level));

  if (check_only) {
    try {
      std::cout << app::describe_config(app::load_effective_config(options));
      return app::exit_ok;
    } catch (const config::config_error& e) {
      std::cerr << "platform-healthd: invalid config " << options.config_file.string() << ": " << e.what() << '\n';
      return app::exit_config_error;
    }
  }
  return app::run_daemon(options);
}
