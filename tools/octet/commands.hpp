#pragma once
// Each subcommand registers its options on the CLI11 app and returns the function that runs it
// after parsing (exit code; errors are thrown as octet::Error).
#include <CLI/CLI.hpp>
#include <functional>

namespace octet::cli {

using Command = std::function<int()>;

Command add_info_command(CLI::App& app);
Command add_run_command(CLI::App& app);
Command add_eval_command(CLI::App& app);
Command add_quantize_command(CLI::App& app);
Command add_compare_command(CLI::App& app);
Command add_bench_command(CLI::App& app);
Command add_export_command(CLI::App& app);
Command add_lint_command(CLI::App& app);
Command add_profile_command(CLI::App& app);

}  // namespace octet::cli
