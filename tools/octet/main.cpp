// octet: command-line front end. Every failure ends as one line "octet: error: ..." on stderr
// and a non-zero exit status.
#include <cstdio>
#include <exception>
#include <map>

#include "engine/data/data_error.hpp"
#include "graph/error.hpp"
#include "tools/octet/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Octet: int8 inference engine (validate, quantize, benchmark, run)", "octet"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "octet 0.1.0");
  app.failure_message([](const CLI::App*, const CLI::Error& error) {
    return std::string("octet: error: ") + error.what() + " (see --help)\n";
  });
  const std::map<std::string, octet::cli::Command> commands = {
      {"info", octet::cli::add_info_command(app)},
      {"run", octet::cli::add_run_command(app)},
      {"eval", octet::cli::add_eval_command(app)},
      {"quantize", octet::cli::add_quantize_command(app)},
      {"compare", octet::cli::add_compare_command(app)},
      {"bench", octet::cli::add_bench_command(app)},
      {"export", octet::cli::add_export_command(app)},
      {"lint", octet::cli::add_lint_command(app)},
      {"profile", octet::cli::add_profile_command(app)},
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  try {
    for (const CLI::App* subcommand : app.get_subcommands())
      return commands.at(subcommand->get_name())();
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "octet: error: out of memory\n");
    return 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "octet: error: %s\n", error.what());
    return 1;
  }
  return 0;
}
