// khospec-prove: khospec with `prove` run in this process. It is the only
// program that links spec/ and so loads the Z3 solver; `khospec prove`
// (cli/cmd_prove.cpp) runs it with the same arguments.
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return khospec::cli::run(args, std::cout, std::cerr, std::cin, {{"prove", khospec::cli::cmd_prove_in_process}});
}
