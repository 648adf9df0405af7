// khospec prove ...: the proof obligations run in the helper program
// khospec-prove, the only program that loads the Z3 solver, so that the
// other commands start like a small C program. The helper is looked up next
// to this program (/proc/self/exe), then in PATH, and gets the same
// arguments (the common options spelled again; -o stays here). Its stdout
// and stderr are relayed to ctx.out and ctx.err as they arrive, and its exit
// code (0/100/1) is ours: users see no difference.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "cli/output.hpp"
#include "core/json.hpp"

extern char** environ;

namespace khospec::cli {

namespace {

constexpr std::string_view kHelper = "khospec-prove";

std::string own_dir() {
  std::vector<char> buf(4096);
  const ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) return {};
  const std::string self(buf.data(), static_cast<std::size_t>(n));
  const auto slash = self.rfind('/');
  return slash == std::string::npos ? std::string{} : self.substr(0, slash);
}

bool is_program(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

// khospec-prove next to this program, else the first one in PATH.
std::optional<std::string> find_helper(const std::string& dir) {
  if (!dir.empty() && is_program(dir + "/" + std::string(kHelper))) return dir + "/" + std::string(kHelper);
  const char* path = std::getenv("PATH");
  if (!path) return std::nullopt;
  const std::string p(path);
  for (std::size_t start = 0;;) {
    const auto colon = p.find(':', start);
    std::string d = p.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (d.empty()) d = ".";  // an empty PATH entry is the current directory
    if (is_program(d + "/" + std::string(kHelper))) return d + "/" + std::string(kHelper);
    if (colon == std::string::npos) return std::nullopt;
    start = colon + 1;
  }
}

// The command line that makes khospec-prove parse what we parsed.
std::vector<std::string> helper_args(const Options& o) {
  std::vector<std::string> a;
  if (o.json()) a.insert(a.end(), {"-f", "json"});
  if (o.verbosity < 0) a.push_back("-q");
  if (o.verbosity > 0) a.push_back("-v");
  if (o.werror) a.push_back("--werror");
  if (o.exit_zero) a.push_back("--exit-zero");
  if (o.endian == fdt::Endian::big) a.insert(a.end(), {"--endian", "big"});
  if (o.max_size != Options{}.max_size) a.insert(a.end(), {"--max-size", std::to_string(o.max_size)});
  a.push_back("prove");
  for (const auto& [name, value] : o.extra) {
    const std::string flag = (name.size() == 1 ? "-" : "--") + name;
    const auto all = o.multi.find(name);
    if (all == o.multi.end()) {  // an option without a value
      a.push_back(flag);
      continue;
    }
    for (const auto& v : all->second) a.insert(a.end(), {flag, v});
  }
  if (!o.args.empty()) {
    a.push_back("--");
    a.insert(a.end(), o.args.begin(), o.args.end());
  }
  return a;
}

int missing_helper(Context& ctx, const std::string& dir) {
  const std::string msg = "prove runs the program " + std::string(kHelper) +
                          " (the only one that loads the Z3 solver), which is neither next to khospec (" +
                          (dir.empty() ? "unknown directory" : dir) +
                          ") nor in PATH; build or install it with khospec (CMake target " + std::string(kHelper) + ")";
  return usage_error(ctx, msg);
}

// Copy what the helper writes to ctx.out / ctx.err until it closes both.
void relay(Context& ctx, int out_fd, int err_fd) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::ostream* dest[2] = {&ctx.out, &ctx.err};
  char buf[1 << 16];
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !fds[i].revents) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;  // poll() skips it
        continue;
      }
      dest[i]->write(buf, n);
      dest[i]->flush();  // line by line, as the helper prints results
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
}

}  // namespace

int cmd_prove(Context& ctx) {
  const std::string dir = own_dir();
  const auto helper = find_helper(dir);
  if (!helper) return missing_helper(ctx, dir);

  std::vector<std::string> args = helper_args(ctx.opts);
  args.insert(args.begin(), *helper);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return usage_error(ctx, std::string("cannot run prove: pipe: ") + std::strerror(errno));
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    const int e = errno;
    close(out_pipe[0]);
    close(out_pipe[1]);
    return usage_error(ctx, std::string("cannot run prove: pipe: ") + std::strerror(e));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], STDERR_FILENO);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, helper->c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return usage_error(ctx, "cannot run " + *helper + ": " + std::strerror(rc));
  }
  relay(ctx, out_pipe[0], err_pipe[0]);

  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return usage_error(ctx, std::string("waiting for ") + *helper + ": " + std::strerror(errno));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return usage_error(ctx, *helper + " was killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")");
}

}  // namespace khospec::cli
