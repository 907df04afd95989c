#pragma once
// CLI11 for the `herd` command's .cc files; headers forward-declare CLI::App.
// CLI11 is header-only, so its functions are compiled in each file that uses
// them, and GCC 12 at -O2 reports a -Wnull-dereference inside
// CLI::detail::split (std::vector<std::string> growth inlined into it: the
// null path it sees is the empty vector's, never dereferenced). The pragma
// covers CLI11's own code only; ours keeps the warning.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop
