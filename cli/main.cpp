// khospec: the command-line front end (everything lives in khospec::cli::run).
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return khospec::cli::run(args, std::cout, std::cerr, std::cin);
}
