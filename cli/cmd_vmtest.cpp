// khospec vmtest ...: real kernels in the loop. The harness drives QEMU, a
// gdbstub and QMP, which is scripting work: it is the Python package
// vmtest/khospec_vmtest, run with Debian's python3. This command hands it the
// arguments after `vmtest` (and -f json given before), this khospec binary
// (copied into the guest and used on the host) and the paths it needs.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli/cli.hpp"

namespace khospec::cli {

int exec_vmtest(const std::vector<std::string>& argv, std::size_t cmd_index, std::ostream& err) {
  std::vector<std::string> args = {"python3", "-m", "khospec_vmtest"};
  for (std::size_t i = 0; i < cmd_index; ++i) {
    if ((argv[i] == "-f" || argv[i] == "--format") && i + 1 < cmd_index) {
      args.push_back("-f");
      args.push_back(argv[++i]);
    }
  }
  args.insert(args.end(), argv.begin() + static_cast<std::ptrdiff_t>(cmd_index) + 1, argv.end());
  std::vector<char> self(4096);
  const ssize_t n = readlink("/proc/self/exe", self.data(), self.size() - 1);
  if (n > 0) setenv("KHOSPEC_BIN", std::string(self.data(), static_cast<std::size_t>(n)).c_str(), 1);
  std::string path = KHOSPEC_VMTEST_DIR ":" KHOSPEC_PYTHON_DIR;
  if (const char* old = std::getenv("PYTHONPATH"); old && *old) path += std::string(":") + old;
  setenv("PYTHONPATH", path.c_str(), 1);
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  execv("/usr/bin/python3", cargv.data());
  err << "khospec: error: vmtest needs /usr/bin/python3 (Debian package python3): " << std::strerror(errno) << "\n";
  return exit_error;
}

}  // namespace khospec::cli
