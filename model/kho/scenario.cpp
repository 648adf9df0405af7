#include "model/kho/scenario.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "core/parse.hpp"
#include "model/kho/clients.hpp"
#include "model/kho/luo.hpp"
#include "model/kho/mem_track.hpp"

namespace khospec::model {

namespace {


struct Fail {
  int line;
  std::string msg;
};

[[noreturn]] void fail(const YAML::Node& n, std::string msg) { throw Fail{n.Mark().line + 1, std::move(msg)}; }

// "1,3" -> {"1", "3"}
std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

bool truthy(const std::string& v) { return v == "true" || v == "yes" || v == "1" || v == "on"; }

// Which arguments each op takes (everything else is an error).
const std::map<std::string, std::set<std::string>>& op_args() {
  static const std::map<std::string, std::set<std::string>> m = {
      {"boot", {"era", "cmdline", "test_kho", "debug", "release", "seed"}},
      {"kexec", {"era", "cmdline", "test_kho", "debug", "release", "seed", "exhaust_scratch"}},
      {"finalize", {}},
      {"abort", {}},
      {"debugfs_write", {"value"}},
      {"preserve_folio", {"phys", "order"}},
      {"preserve_phys", {"phys", "size"}},
      {"preserve_pages", {"phys", "nr"}},
      {"unpreserve_folio", {"phys", "order"}},
      {"unpreserve_pages", {"phys", "nr"}},
      {"alloc_preserve", {"size"}},
      {"alloc_and_preserve", {"order", "count", "gaps"}},
      {"fail_notifier", {"client", "on", "error"}},
      {"kexec_load", {}},
      {"dump", {}},
      {"memfd_create", {"name", "pages", "holes", "pos", "sealing", "tag"}},
      {"memfd_write", {"memfd", "offset", "text"}},
      {"memfd_seal", {"memfd", "seals"}},
      {"luo_create_session", {"session"}},
      {"luo_preserve_fd", {"session", "memfd", "token"}},
      {"luo_retrieve_session", {"session"}},
      {"luo_retrieve_fd", {"session", "token", "memfd"}},
      {"luo_finish", {"session"}},
      {"luo_close", {"session"}},
      {"expect", {"finding", "kernel", "absent", "test_kho", "revived", "ret", "session"}},
  };
  return m;
}

std::uint64_t size_arg(const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar()) fail(n, what + ": expected a number");
  auto v = parse_size(n.Scalar());
  if (!v) fail(n, what + ": '" + n.Scalar() + "' is not a number or size (e.g. 0x1000, 4096, 2M)");
  return *v;
}

bool bool_arg(const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar()) fail(n, what + ": expected true or false");
  std::string s = n.Scalar();
  if (s == "true" || s == "yes" || s == "on" || s == "1") return true;
  if (s == "false" || s == "no" || s == "off" || s == "0") return false;
  fail(n, what + ": expected true or false, not '" + s + "'");
}

void apply_kernel_keys(const YAML::Node& map, KernelConfig& k, const std::string& where) {
  for (const auto& kv : map) {
    std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    if (key == "era") {
      // An era, or a release: then the kernel runs that release.
      auto r = registry::resolve(v.as<std::string>());
      if (!r) fail(v, where + ".era: unknown era or release '" + v.as<std::string>() + "' (" + registry::valid_names() + ")");
      k.era = r->era->id;
      k.release = uname_release(*r);
    } else if (key == "cmdline") {
      k.cmdline = v.as<std::string>();
    } else if (key == "test_kho") {
      k.test_kho = bool_arg(v, where + ".test_kho");
    } else if (key == "debug") {
      k.debug = bool_arg(v, where + ".debug");
    } else if (key == "release") {
      k.release = v.as<std::string>();
    } else if (key == "seed") {
      k.seed = size_arg(v, where + ".seed");
    } else if (key == "kernel_image_size") {
      k.kernel_image_size = size_arg(v, where + ".kernel_image_size");
    } else if (key == "boot_alloc") {
      k.boot_alloc_bytes = size_arg(v, where + ".boot_alloc");
    } else if (key == "exhaust_scratch") {
      k.exhaust_scratch = bool_arg(v, where + ".exhaust_scratch");
    } else if (key == "test_kho_max_mem") {
      k.test_kho_max_mem = size_arg(v, where + ".test_kho_max_mem");
    } else {
      fail(kv.first, where + ": unknown key '" + key + "'");
    }
  }
}

}  // namespace

std::string errno_name(int err) {
  static const std::map<int, const char*> names = {
      {0, "0"},          {-1, "-EPERM"},   {-2, "-ENOENT"}, {-5, "-EIO"},    {-7, "-E2BIG"},
      {-9, "-EBADF"},    {-11, "-EAGAIN"}, {-12, "-ENOMEM"}, {-14, "-EFAULT"}, {-16, "-EBUSY"},
      {-17, "-EEXIST"},  {-22, "-EINVAL"}, {-25, "-ENOTTY"}, {-27, "-EFBIG"}, {-28, "-ENOSPC"},
      {-95, "-EOPNOTSUPP"}, {-99, "-EADDRNOTAVAIL"}};
  auto it = names.find(err);
  return it != names.end() ? it->second : std::to_string(err);
}

std::optional<Scenario> parse_scenario(std::string_view text, std::string_view name, ScenarioError& err) {
  Scenario s;
  s.name = std::string(name);
  // yaml-cpp's node tree costs several times the text it comes from, so a size
  // limit keeps a hostile file's memory within twice its size plus a fixed
  // bound (docs/fuzz.md); the built-in scenarios are under 4 KiB.
  constexpr std::size_t kMaxScenario = 1u << 20;
  if (text.size() > kMaxScenario) {
    err.message = std::string(name) + ":1: a scenario file is at most 1 MiB; this one has " +
                  std::to_string(text.size()) + " bytes";
    return std::nullopt;
  }
  try {
    YAML::Node doc = YAML::Load(std::string(text));
    if (!doc.IsMap()) fail(doc, "a scenario is a map with 'machine', 'kernel' and 'steps'");
    for (const auto& kv : doc) {
      std::string key = kv.first.as<std::string>();
      if (key != "name" && key != "description" && key != "machine" && key != "kernel" && key != "steps")
        fail(kv.first, "unknown top-level key '" + key + "' (name, description, machine, kernel, steps)");
    }
    if (doc["name"]) s.name = doc["name"].as<std::string>();
    if (doc["description"]) s.description = doc["description"].as<std::string>();
    std::uint64_t ram = 2ull << 30;
    int nodes = 1;
    Arch arch = Arch::x86_64;
    if (const auto& m = doc["machine"]) {
      if (!m.IsMap()) fail(m, "machine: expected a map (ram, nodes, arch)");
      for (const auto& kv : m) {
        std::string key = kv.first.as<std::string>();
        if (key == "ram") {
          ram = size_arg(kv.second, "machine.ram");
          if (const std::string why = machine_ram_problem(ram); !why.empty()) fail(kv.second, "machine.ram: " + why);
        } else if (key == "nodes") {
          nodes = static_cast<int>(size_arg(kv.second, "machine.nodes"));
          if (nodes < 1 || nodes > 64) fail(kv.second, "machine.nodes: 1..64");
        } else if (key == "arch") {
          std::string a = kv.second.as<std::string>();
          if (a == "x86_64") arch = Arch::x86_64;
          else if (a == "arm64") arch = Arch::arm64;
          else fail(kv.second, "machine.arch: x86_64 or arm64, not '" + a + "'");
        } else {
          fail(kv.first, "machine: unknown key '" + key + "' (ram, nodes, arch)");
        }
      }
    }
    s.machine = machine_with_ram(ram, nodes);
    s.machine.arch = arch;
    if (const auto& k = doc["kernel"]) {
      if (!k.IsMap()) fail(k, "kernel: expected a map");
      apply_kernel_keys(k, s.kernel, "kernel");
    }
    const YAML::Node steps = doc["steps"];
    if (!steps || !steps.IsSequence() || steps.size() == 0) fail(doc, "steps: expected a non-empty list");
    for (const auto& st : steps) {
      ScenarioStep step;
      step.line = st.Mark().line + 1;
      YAML::Node args;
      if (st.IsScalar()) {
        step.op = st.Scalar();
      } else if (st.IsMap() && st.size() == 1) {
        step.op = st.begin()->first.as<std::string>();
        args = st.begin()->second;
      } else {
        fail(st, "each step is an operation name or a one-key map {op: {args}}");
      }
      auto it = op_args().find(step.op);
      if (it == op_args().end()) fail(st, "unknown operation '" + step.op + "'");
      if (args && !args.IsNull()) {
        if (!args.IsMap()) fail(args, step.op + ": arguments must be a map");
        for (const auto& kv : args) {
          std::string key = kv.first.as<std::string>();
          if (!it->second.count(key)) fail(kv.first, step.op + ": unknown argument '" + key + "'");
          if (!kv.second.IsScalar()) fail(kv.second, step.op + "." + key + ": expected a scalar");
          step.args[key] = kv.second.Scalar();
          // Validate the kinds now so a run never stops halfway on a typo.
          if (key == "era" && !parse_era(kv.second.Scalar())) fail(kv.second, step.op + ".era: unknown era or release");
          if (key == "holes")
            for (const auto& h : split_list(kv.second.Scalar()))
              if (!parse_size(h)) fail(kv.second, step.op + ".holes: '" + h + "' is not a page index");
          if ((key == "phys" || key == "order" || key == "size" || key == "nr" || key == "count" ||
               key == "value" || key == "kernel" || key == "seed" || key == "pages" || key == "pos" ||
               key == "token" || key == "seals" || key == "offset") &&
              !parse_size(kv.second.Scalar()))
            fail(kv.second, step.op + "." + key + ": '" + kv.second.Scalar() + "' is not a number");
          // A block of 2^order pages must fit a 52-bit physical space (the
          // tracker's KHO_MAX_WIRE_ORDER); a larger order is no block at all.
          if (key == "order" && *parse_size(kv.second.Scalar()) > KHO_MAX_WIRE_ORDER)
            fail(kv.second, step.op + ".order: " + kv.second.Scalar() + " is not a page order (0.." +
                                std::to_string(KHO_MAX_WIRE_ORDER) + ")");
        }
      }
      if (s.steps.empty() && step.op != "boot") fail(st, "the first step must be 'boot'");
      if (!s.steps.empty() && step.op == "boot") fail(st, "'boot' only starts the chain; use 'kexec' afterwards");
      s.steps.push_back(std::move(step));
    }
  } catch (const Fail& f) {
    err.message = std::string(name) + ":" + std::to_string(f.line) + ": " + f.msg;
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    err.message = std::string(name) + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg;
    return std::nullopt;
  }
  return s;
}

ScenarioRun run_scenario(const Scenario& s, bool keep_memory) {
  ScenarioRun run;
  run.machine = std::make_unique<Machine>(s.machine);
  Machine& m = *run.machine;
  m.keep_memory_at_kexec(keep_memory);
  auto num = [](const ScenarioStep& st, const char* k, std::uint64_t dflt = 0) {
    auto it = st.args.find(k);
    return it == st.args.end() ? dflt : *parse_size(it->second);
  };
  auto kcfg = [&](const ScenarioStep& st) {
    KernelConfig k = s.kernel;
    for (const auto& [key, v] : st.args) {
      if (key == "era") {
        const auto r = *registry::resolve(v);
        k.era = r.era->id;
        k.release = uname_release(r);
      }
      else if (key == "cmdline") k.cmdline = v;
      else if (key == "test_kho") k.test_kho = truthy(v);
      else if (key == "debug") k.debug = truthy(v);
      else if (key == "release") k.release = v;
      else if (key == "seed") k.seed = *parse_size(v);
      else if (key == "exhaust_scratch") k.exhaust_scratch = truthy(v);
    }
    return k;
  };
  int last_ret = 0;
  // Userspace's names for its fds in the current kernel (they die with it).
  std::map<std::string, int> memfd_fd, session_fd;
  auto arg = [](const ScenarioStep& st, const char* key) {
    auto it = st.args.find(key);
    return it == st.args.end() ? std::string() : it->second;
  };
  auto fd_of = [](const std::map<std::string, int>& fds, const std::string& name) {
    auto it = fds.find(name);
    return it == fds.end() ? -1 : it->second;
  };
  for (const auto& st : s.steps) {
    StepResult r;
    r.op = st.op;
    Kernel* k = m.current();
    auto ret = [&](int e) {
      last_ret = e;
      r.result = errno_name(e);
    };
    if (st.op == "boot") {
      k = &m.boot_cold(kcfg(st));
      r.result = std::string(boot_phase_name(k->phase()));
    } else if (st.op == "kexec") {
      Kernel* next = m.kexec(kcfg(st));
      if (!next) {
        run.error = "line " + std::to_string(st.line) + ": kexec: no image loaded (or a reboot hook refused)";
        r.result = "refused";
        r.expectation_failed = true;
        run.expectations_ok = false;
        r.kernel = k ? k->index() + 1 : 0;
        run.steps.push_back(r);
        break;
      }
      k = next;
      memfd_fd.clear();
      session_fd.clear();
      r.result = std::string(boot_phase_name(k->phase())) + (k->kho_boot() ? ", KHO revival" : ", no revival");
    } else if (st.op == "finalize") {
      const auto& era = k->era();
      ret(era.finalize == FinalizeModel::refresh ? k->kho_finalize() : k->debugfs_finalize_write(1));
    } else if (st.op == "abort") {
      ret(k->debugfs_finalize_write(0));
    } else if (st.op == "debugfs_write") {
      ret(k->debugfs_finalize_write(num(st, "value")));
    } else if (st.op == "preserve_folio") {
      ret(k->kho_preserve_folio(num(st, "phys"), static_cast<unsigned>(num(st, "order"))));
    } else if (st.op == "preserve_phys") {
      ret(k->kho_preserve_phys(num(st, "phys"), num(st, "size")));
    } else if (st.op == "preserve_pages") {
      ret(k->kho_preserve_pages(num(st, "phys"), num(st, "nr")));
    } else if (st.op == "unpreserve_folio") {
      ret(k->kho_unpreserve_folio(num(st, "phys"), static_cast<unsigned>(num(st, "order"))));
    } else if (st.op == "unpreserve_pages") {
      ret(k->kho_unpreserve_pages(num(st, "phys"), num(st, "nr")));
    } else if (st.op == "alloc_preserve") {
      auto v = k->kho_alloc_preserve(num(st, "size"));
      if (v < 0) ret(static_cast<int>(v)); else { last_ret = 0; r.result = hex(static_cast<std::uint64_t>(v)); }
    } else if (st.op == "alloc_and_preserve") {
      unsigned order = static_cast<unsigned>(num(st, "order"));
      std::uint64_t count = num(st, "count", 1);
      int e = 0;
      std::string where;
      for (std::uint64_t i = 0; i < count && !e; ++i) {
        phys_addr_t p = k->alloc_pages(order);
        if (!p) { e = K_ENOMEM; break; }
        // Give the folio recognisable contents so the hand-over can be verified.
        std::vector<std::uint8_t> fill(64, static_cast<std::uint8_t>(0xc0 + (i & 0x3f)));
        k->image().write(p, fill);
        e = k->kho_preserve_folio(p, order);
        if (i == 0) where = hex(p);
        // gaps: leave an unpreserved folio between two preserved ones, so the
        // next kernel cannot merge their reservations.
        if (st.args.count("gaps") && st.args.at("gaps") == "true") k->alloc_pages(order);
      }
      ret(e);
      if (!e) r.result = "0 (" + std::to_string(count) + " folios from " + where + ")";
    } else if (st.op == "fail_notifier") {
      KhoClient* c = k->client(st.args.count("client") ? st.args.at("client") : "memblock");
      // A notifier returns -errno: 1..MAX_ERRNO (4095); anything else is no
      // error a kernel function returns (and 2^63 would not negate).
      const std::uint64_t errnum = num(st, "error", 22);
      const int e = errnum >= 1 && errnum <= 4095 ? -static_cast<int>(errnum) : 0;
      if (e == 0) {
        r.result = "error " + std::to_string(errnum) + " is not an errno (1..4095)";
        r.expectation_failed = true;
        run.expectations_ok = false;
      } else if (!c) {
        r.result = "no such client";
        r.expectation_failed = true;
        run.expectations_ok = false;
      } else {
        (st.args.count("on") && st.args.at("on") == "abort" ? c->fail_abort : c->fail_finalize) = e;
        r.result = "armed " + errno_name(e);
      }
    } else if (st.op == "kexec_load") {
      ret(k->kexec_file_load());
    } else if (st.op == "memfd_create") {
      // A memfd of `pages` pages, each written with "KHO-LUO-MEMFD page I of
      // TAG" except the holes, then lseek(pos).
      const int fd = k->memfd_create(truthy(arg(st, "sealing")));
      std::set<std::uint64_t> holes;
      for (const auto& h : split_list(arg(st, "holes"))) holes.insert(*parse_size(h));
      const std::uint64_t pages = num(st, "pages", 1);
      const std::string tag = st.args.count("tag") ? arg(st, "tag") : arg(st, "name");
      int e = k->memfd_truncate(fd, pages * PAGE_SIZE_4K);
      for (std::uint64_t i = 0; i < pages && !e; ++i) {
        if (holes.count(i)) continue;
        const std::string text = "KHO-LUO-MEMFD page " + std::to_string(i) + " of " + tag;
        e = k->memfd_write(fd, i * PAGE_SIZE_4K, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
      }
      if (!e) e = k->memfd_seek(fd, num(st, "pos", 0));
      memfd_fd[arg(st, "name")] = fd;
      ret(e);
      if (!e) r.result = "fd " + std::to_string(fd);
    } else if (st.op == "memfd_write") {
      const std::string text = arg(st, "text");
      ret(k->memfd_write(fd_of(memfd_fd, arg(st, "memfd")), num(st, "offset"),
                         std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())));
    } else if (st.op == "memfd_seal") {
      ret(k->memfd_add_seals(fd_of(memfd_fd, arg(st, "memfd")), static_cast<std::uint32_t>(num(st, "seals"))));
    } else if (st.op == "luo_create_session" || st.op == "luo_retrieve_session") {
      const std::string name = arg(st, "session");
      const int fd = st.op == "luo_create_session" ? k->luo_create_session(name) : k->luo_retrieve_session(name);
      ret(fd < 0 ? fd : 0);
      if (fd >= 0) {
        session_fd[name] = fd;
        r.result = "fd " + std::to_string(fd);
      }
    } else if (st.op == "luo_preserve_fd") {
      ret(k->luo_preserve_fd(fd_of(session_fd, arg(st, "session")), fd_of(memfd_fd, arg(st, "memfd")), num(st, "token")));
    } else if (st.op == "luo_retrieve_fd") {
      const int fd = k->luo_retrieve_fd(fd_of(session_fd, arg(st, "session")), num(st, "token"));
      ret(fd < 0 ? fd : 0);
      if (fd >= 0) {
        if (st.args.count("memfd")) memfd_fd[arg(st, "memfd")] = fd;
        r.result = "fd " + std::to_string(fd);
        m.check_handover();  // INV_MEMFD_RESTORED_CONTENT against what kernel N-1 serialized
      }
    } else if (st.op == "luo_finish") {
      ret(k->luo_finish(fd_of(session_fd, arg(st, "session"))));
    } else if (st.op == "luo_close") {
      ret(k->luo_close(fd_of(session_fd, arg(st, "session"))));
      session_fd.erase(arg(st, "session"));
    } else if (st.op == "dump") {
      r.result = "tables below";
      r.note = "dump";
    } else if (st.op == "expect") {
      bool ok = true;
      std::string what;
      if (st.args.count("finding")) {
        const std::string& id = st.args.at("finding");
        int kidx = static_cast<int>(num(st, "kernel", 0));
        bool present = false;
        for (const auto& kk : m.kernels()) {
          if (kidx && kk->index() + 1 != kidx) continue;
          for (const auto& f : kk->findings()) present |= f.id == id;
        }
        bool absent = st.args.count("absent") && (st.args.at("absent") == "true" || st.args.at("absent") == "yes");
        ok = absent ? !present : present;
        what = (absent ? "no " : "") + id + (kidx ? " in kernel " + std::to_string(kidx) : "");
      }
      if (st.args.count("test_kho")) {
        auto* t = dynamic_cast<TestKhoClient*>(k->client("kho_test"));
        bool restored = t && t->restored_ok();
        ok = ok && (st.args.at("test_kho") == "restored") == restored;
        what += " test_kho " + st.args.at("test_kho");
      }
      if (st.args.count("revived")) {
        auto* rm = dynamic_cast<ReserveMemClient*>(k->client("memblock"));
        bool rev = false;
        if (rm)
          for (const auto& reg : rm->regions()) rev |= reg.name == st.args.at("revived") && reg.revived;
        ok = ok && rev;
        what += " revived " + st.args.at("revived");
      }
      if (st.args.count("session")) {
        // A session the previous kernel handed over was retrieved here.
        bool found = false;
        if (const LuoClient* l = k->luo())
          for (const auto& n : l->retrieved_sessions()) found |= n == st.args.at("session");
        ok = ok && found;
        what += " session " + st.args.at("session") + " retrieved";
      }
      if (st.args.count("ret")) {
        const std::string& text = st.args.at("ret");
        const bool neg = !text.empty() && text[0] == '-';
        const auto mag = parse_size(neg ? text.substr(1) : text);
        // Negated as unsigned: "-0x8000000000000000" is INT64_MIN, not overflow.
        const std::int64_t w = mag ? static_cast<std::int64_t>(neg ? 0 - *mag : *mag) : 0;
        ok = ok && mag && w == last_ret;
        what += " ret " + st.args.at("ret");
      }
      r.result = (ok ? "ok: " : "FAILED: ") + what;
      r.expectation_failed = !ok;
      if (!ok) run.expectations_ok = false;
    }
    r.kernel = k ? k->index() + 1 : 0;
    if (k && st.op != "expect") k->check_invariants();
    run.steps.push_back(r);
  }
  return run;
}

// ----------------------------------------------------------------- output ----

void render_run_text(std::ostream& out, const Scenario& s, const ScenarioRun& run, bool verbose) {
  const Machine& m = *run.machine;
  out << "scenario " << s.name << ": " << era_name(s.kernel.era) << ", "
      << (m.config().arch == Arch::x86_64 ? "x86_64" : "arm64") << ", RAM";
  std::uint64_t ram = 0;
  for (const auto& r : m.config().ram) ram += r.size;
  out << " " << (ram >> 20) << " MiB in " << m.config().ram.size() << " ranges, " << m.node_count() << " node(s)\n";
  if (!s.description.empty()) out << "  " << s.description << "\n";
  out << "\nsteps:\n";
  for (const auto& st : run.steps)
    out << "  k" << st.kernel << "  " << st.op << " -> " << st.result << "\n";
  if (!run.error.empty()) out << "  error: " << run.error << "\n";
  for (const auto& kp : m.kernels()) {
    const Kernel& k = *kp;
    out << "\n== kernel " << k.index() + 1 << " (" << era_name(k.config().era) << " release " << k.release().version << ", "
        << (k.kho_boot() ? "KHO boot" : "cold boot") << ", KHO " << (k.kho_enabled() ? "on" : "off")
        << ", state " << out_state_name(k.out_state()) << ", phase " << boot_phase_name(k.phase()) << ") ==\n";
    for (const auto& t : k.timeline()) out << "  " << t.what << "\n";
    if (!k.scratch().empty()) {
      out << "  scratch:";
      for (const auto& a : k.scratch()) out << " [" << hex(a.addr) << " +" << hex(a.size) << "]";
      out << " (array at " << hex(k.scratch_array_phys()) << ")\n";
    }
    if (!k.incoming_blocks().empty()) {
      std::map<unsigned, std::size_t> per;
      for (const auto& b : k.incoming_blocks()) ++per[b.order];
      out << "  incoming preserved blocks: " << k.incoming_blocks().size() << " (";
      bool first = true;
      for (auto [o, n] : per) out << (first ? "" : ", ") << "order " << o << " x" << n, first = false;
      out << ")\n";
    }
    if (k.tracker()) {
      auto blocks = k.phase() == BootPhase::kexeced ? k.outgoing_at_kexec() : k.tracker()->blocks();
      out << "  outgoing preserved blocks: " << blocks.size();
      if (verbose) for (const auto& b : blocks) out << "\n    " << hex(b.phys) << " order " << b.order;
      out << "\n";
    }
    for (const auto& st : k.subtrees())
      out << "  subtree " << st.name << " -> " << hex(st.phys) << (st.size ? " (" + std::to_string(st.size) + " bytes)" : "") << "\n";
    if (verbose) {
      out << "  memblock.memory (cnt " << k.memblock().memory().cnt() << ", max " << k.memblock().memory().max
          << ", total " << hex(k.memblock().memory().total_size) << "):\n";
      for (const auto& r : k.memblock().memory().regions)
        out << "    " << hex(r.base) << " +" << hex(r.size) << " " << flags_to_string(r.flags) << " nid " << r.nid << "\n";
      out << "  memblock.reserved (cnt " << k.memblock().reserved().cnt() << ", max " << k.memblock().reserved().max
          << ", total " << hex(k.memblock().reserved().total_size) << "):\n";
      for (const auto& r : k.memblock().reserved().regions)
        out << "    " << hex(r.base) << " +" << hex(r.size) << " " << flags_to_string(r.flags) << " nid " << r.nid << "\n";
    }
    for (const auto& d : k.dmesg()) out << "  dmesg: " << d << "\n";
    if (k.findings().empty()) {
      out << "  invariants: all hold\n";
    } else {
      for (const auto& f : k.findings()) out << "  " << f.level << " (" << f.id << "): " << f.detail << "\n";
    }
  }
  std::size_t errors = 0, warnings = 0;
  for (const auto& f : m.all_findings()) (f.level == "error" ? errors : warnings)++;
  out << "\nresult: " << m.kernels().size() << " kernel(s), " << errors << " invariant violation(s), " << warnings
      << " hazard warning(s), expectations " << (run.expectations_ok ? "met" : "NOT met") << "\n";
}

bool write_run_files(const ScenarioRun& run, const std::string& dir, std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto write = [&](const fs::path& p, const std::vector<std::uint8_t>& b) {
    fs::create_directories(p.parent_path(), ec);
    std::ofstream o(p, std::ios::binary | std::ios::trunc);
    o.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!o) error = "cannot write " + p.string();
    return static_cast<bool>(o);
  };
  auto text = [&](const fs::path& p, const std::string& s) { return write(p, std::vector<std::uint8_t>(s.begin(), s.end())); };
  const Machine& m = *run.machine;
  for (const auto& kp : m.kernels()) {
    const Kernel& k = *kp;
    fs::path kd = fs::path(dir) / ("k" + std::to_string(k.index() + 1));
    fs::create_directories(kd, ec);
    for (const auto& b : k.debugfs_out_blobs()) {
      const std::string name = b.name == "fdt" ? "out_fdt.dtb"
                               : b.fdt        ? "out_sub_fdt_" + b.name + ".dtb"
                                              : "out_sub_blob_" + b.name + ".bin";
      if (!write(kd / name, b.bytes)) return false;
    }
    for (const auto& f : k.debugfs_out_files())
      if (!text(kd / ("out_" + f.name + ".txt"), f.text)) return false;
    const bool last = kp == m.kernels().back();
    const std::vector<std::uint8_t>* mem = m.memory_at_kexec(k.index());
    if (!mem && !last) {
      error = "kernel " + std::to_string(k.index() + 1) + "'s memory at kexec was not kept (run_scenario(s, true))";
      return false;
    }
    if (!write(kd / "memory.elf", mem ? *mem : m.image().save_elf())) return false;
  }
  return true;
}

// ---------------------------------------------------------------- built-ins ----

std::vector<std::string> builtin_scenarios() {
  return {"chain", "abort-dangling-map", "stale-map", "unfinalized-load", "reserve-mem-in-scratch",
          "abort-loses-preservations", "order-above-max", "scratch-underflow", "deserialize-reserve-fails",
          "luo-memfd", "luo-flb-missing"};
}

std::optional<std::string> builtin_scenario_text(const std::string& name, KhoEra era) {
  std::string e(era_name(era));
  const EraTraits& t = era_traits(era);
  // The era's model release (registry::default_release()).
  std::string release = uname_release(registry::Resolved{&t, nullptr});
  std::string head = "machine: {ram: 2G}\nkernel:\n  era: " + e + "\n  release: \"" + release + "\"\n";
  if (name == "luo-memfd" && t.luo) {
    // The luo-memfd-2stage capture (7.3.4), in every era with LUO.
    return "name: luo-memfd\n"
           "description: a LUO session with a 5-page memfd (page 3 a hole, f_pos 1234) survives the kexec (serialized at "
           "liveupdate_reboot(), retrieved and finished in the next kernel; docs/kernel-behaviour.md 9)\n" + head +
           "  cmdline: \"kho=on liveupdate=on reserve_mem=4M:4096:trace\"\n"
           "steps:\n"
           "  - boot\n"
           "  - memfd_create: {name: m, pages: 5, holes: \"3\", pos: 1234, tag: kho-dump-session}\n"
           "  - luo_create_session: {session: kho-dump-session}\n"
           "  - luo_preserve_fd: {session: kho-dump-session, memfd: m, token: 0x1234abcd}\n"
           "  - expect: {ret: 0}\n"
           "  - kexec_load\n"
           "  - kexec\n"
           "  - luo_retrieve_session: {session: kho-dump-session}\n"
           "  - luo_retrieve_fd: {session: kho-dump-session, token: 0x1234abcd, memfd: m}\n"
           "  - expect: {ret: 0}\n"
           "  - luo_finish: {session: kho-dump-session}\n"
           "  - expect: {ret: 0}\n"
           "  - expect: {session: kho-dump-session}\n"
           "  - expect: {finding: INV_MEMFD_RESTORED_CONTENT, absent: true}\n"
           "  - expect: {finding: INV_LUO_SERIALIZED_PRESERVED, absent: true}\n"
           "  - expect: {finding: INV_KHO_BLOCK_CHAIN_VALID, absent: true}\n"
           "  - expect: {finding: INV_MEMFD_FOLIO_ENTRY_EXACT, absent: true}\n"
           "  - expect: {finding: INV_KHO_HANDOVER_COMPLETE, absent: true}\n"
           "  - expect: {finding: INV_KHO_PRESERVED_CONTENT_INTACT, absent: true}\n";
  }
  if (name == "luo-flb-missing" && era == KhoEra::v6_19) {
    return "name: luo-flb-missing\n"
           "description: 6.19 writes luo-v1 without the luo-flb node, which 7.0 requires, so live update from 6.19 to 7.0 "
           "panics the new kernel (luo_flb_setup_incoming(), docs/kernel-behaviour.md 9)\n"
           "machine: {ram: 2G}\nkernel:\n  era: \"6.19\"\n"
           "  cmdline: \"kho=on liveupdate=on\"\n"
           "steps:\n  - boot\n  - luo_create_session: {session: s}\n  - kexec_load\n"
           "  - kexec: {era: \"7.0\"}\n  - expect: {finding: HAZARD_LUO_PANIC, kernel: 2}\n";
  }
  if (name == "chain") {
    return "name: chain\n"
           "description: kernel 1 -> kernel 2 -> kernel 3, with reserve_mem and test_kho\n" + head +
           "  cmdline: \"kho=on reserve_mem=4M:4096:trace reserve_mem=12K:4096:small\"\n"
           "  test_kho: true\n"
           "steps:\n"
           "  - boot\n"
           "  - alloc_and_preserve: {order: 9, count: 2}\n"
           "  - finalize\n"
           "  - kexec_load\n"
           "  - kexec\n"
           "  - expect: {revived: trace}\n"
           "  - expect: {test_kho: restored}\n"
           "  - finalize\n"
           "  - kexec_load\n"
           "  - kexec\n"
           "  - expect: {revived: small}\n"
           "  - expect: {finding: INV_KHO_HANDOVER_COMPLETE, absent: true}\n"
           "  - expect: {finding: INV_KHO_PRESERVED_CONTENT_INTACT, absent: true}\n";
  }
  if (name == "abort-dangling-map" && era == KhoEra::v6_16) {
    return "name: abort-dangling-map\n"
           "description: 6.16 abort with a failing ABORT notifier stays FINALIZED with a dangling map (kho_abort(), docs/kernel-behaviour.md 5)\n" + head +
           "  cmdline: \"kho=on reserve_mem=4M:4096:trace\"\n"
           "steps:\n  - boot\n  - finalize\n  - fail_notifier: {client: memblock, on: abort, error: 22}\n"
           "  - abort\n  - expect: {ret: -22}\n  - expect: {finding: HAZARD_ABORT_DANGLING_MAP}\n";
  }
  if (name == "stale-map" && era == KhoEra::v6_19) {
    return "name: stale-map\n"
           "description: 6.19 changes after the last finalize (a new order) do not reach the next kernel (kho_finalize(), docs/kernel-behaviour.md 5)\n" + head +
           "  cmdline: \"kho=on\"\n"
           "steps:\n  - boot\n  - finalize\n  - alloc_and_preserve: {order: 3, count: 1}\n  - kexec_load\n"
           "  - kexec\n  - expect: {finding: INV_MAP_FRESH_AT_KEXEC, kernel: 1}\n"
           "  - expect: {finding: INV_KHO_HANDOVER_COMPLETE, kernel: 2}\n";
  }
  if (name == "unfinalized-load" && era == KhoEra::v6_16) {
    return "name: unfinalized-load\n"
           "description: 6.16 hands over the never-written FDT page when loading without finalize (kho_fill_kimage(), docs/kernel-behaviour.md 5)\n" + head +
           "  cmdline: \"kho=on\"\n"
           "steps:\n  - boot\n  - alloc_and_preserve: {order: 0, count: 4}\n  - kexec_load\n  - kexec\n"
           "  - expect: {finding: INV_KHO_HANDOVER_COMPLETE, kernel: 2}\n";
  }
  if (name == "reserve-mem-in-scratch") {
    return "name: reserve-mem-in-scratch\n"
           "description: a reserve_mem region new in kernel 2 is allocated inside scratch (6.16 TODO) and then preserved\n" + head +
           "  cmdline: \"kho=on\"\n"
           "steps:\n  - boot\n  - finalize\n  - kexec_load\n"
           "  - kexec: {cmdline: \"kho=on reserve_mem=4M:4096:fresh\"}\n"
           "  - expect: {finding: HAZARD_RESERVE_MEM_IN_SCRATCH, kernel: 2}\n"
           "  - finalize\n  - expect: {finding: INV_SCRATCH_PRESERVED_DISJOINT, kernel: 2}\n";
  }
  if (name == "abort-loses-preservations" && t.finalize == FinalizeModel::notifier_abort) {
    return "name: abort-loses-preservations\n"
           "description: abort wipes the whole tracker; test_kho's data folios (preserved at init) are lost (kho_abort(), docs/kernel-behaviour.md 5)\n" + head +
           "  cmdline: \"kho=on\"\n  test_kho: true\n"
           "steps:\n  - boot\n  - finalize\n  - abort\n  - finalize\n  - kexec_load\n  - kexec\n"
           "  - expect: {finding: TEST_KHO_RESTORE_FAILED, kernel: 2}\n";
  }
  if (name == "order-above-max" && era == KhoEra::v6_16) {
    return "name: order-above-max\n"
           "description: the greedy split yields an order-11 block that kho_restore_folio() refuses (docs/kernel-behaviour.md 4)\n" + head +
           "  cmdline: \"kho=on\"\n"
           "steps:\n  - boot\n  - preserve_phys: {phys: 0x40000000, size: 8M}\n"
           "  - expect: {finding: INV_PRESERVED_ORDER_RESTORABLE}\n";
  }
  if (name == "deserialize-reserve-fails" && era == KhoEra::v6_18) {
    return "name: deserialize-reserve-fails\n"
           "description: scratch is used up before deserialization; the reserved array cannot double, memblock_reserve() fails and the kernel ignores it (kho_mem_deserialize(), docs/kernel-behaviour.md 6)\n" + head +
           "  cmdline: \"kho=on\"\n"
           "steps:\n  - boot\n  - alloc_and_preserve: {order: 0, count: 300, gaps: true}\n  - finalize\n  - kexec_load\n"
           "  - kexec: {exhaust_scratch: true}\n  - expect: {finding: INV_KHO_PRESERVED_RESERVED, kernel: 2}\n";
  }
  if (name == "scratch-underflow") {
    return "name: scratch-underflow\n"
           "description: on a machine whose RSRV_KERN memory is all below 4 GiB the global scratch size wraps to 0 (scratch_size_update(), docs/kernel-behaviour.md 2)\n" + head +
           "  cmdline: \"kho=on\"\n"
           "steps:\n  - boot\n  - expect: {finding: HAZARD_SCRATCH_GLOBAL_UNDERFLOW}\n";
  }
  return std::nullopt;
}

}  // namespace khospec::model
