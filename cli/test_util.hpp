// For the CLI's tests: run() in this process with its streams captured.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.hpp"

namespace khospec::cli::testing {

struct Result {
  int rc;
  std::string out, err;
};

inline Result run_cli(std::vector<std::string> args, const std::string& stdin_bytes = "") {
  std::ostringstream out, err;
  std::istringstream in(stdin_bytes);
  int rc = run(args, out, err, in);
  return {rc, out.str(), err.str()};
}

}  // namespace khospec::cli::testing
