// Preflight (preflight.hpp): B's model boots from A's bytes; each thing A
// preserved is then looked up in B the way B's own readers would hand it to
// their users.
#include "crosscheck/preflight.hpp"

#include <algorithm>
#include <cstring>
#include <ostream>
#include <sstream>

#include "conformance/kimage/kimage.hpp"
#include "core/json.hpp"
#include "core/parse.hpp"
#include "model/kho/clients.hpp"
#include "model/kho/luo.hpp"
#include "model/kho/machine.hpp"
#include "registry/era.hpp"

namespace khospec::conformance {

namespace {

using model::Kernel;

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kPageblock = 2u << 20;

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// B's RAM when not given: what the image reaches, at least 2 GiB, in the
// QEMU-like layout of model::machine_with_ram() (RAM above 3 GiB sits from 4 GiB).
// Segments past 2^46 (a kcore's non-RAM windows) do not count; at most 256 GiB
// (the layout matters to B's model, not every byte of a large host).
std::uint64_t ram_for(const MemoryImage& image) {
  std::uint64_t top = 0;
  for (const auto& s : image.segments())
    if (s.paddr + s.size <= (1ull << 46)) top = std::max<std::uint64_t>(top, s.paddr + s.size);
  std::uint64_t bytes = top > (4ull << 30) ? top - (1ull << 30) : top;
  bytes = (bytes + (1ull << 30) - 1) & ~((1ull << 30) - 1);
  return std::clamp<std::uint64_t>(bytes, 2ull << 30, 256ull << 30);
}

// Scratch for B when A's is not known: the largest pageblock-aligned run of
// lowmem RAM (at most 512 MiB) that holds no preserved block, no map page and
// not the root FDT, which B's early allocations would overwrite.
std::vector<model::ScratchArea> pick_scratch(const model::MachineConfig& mc, const Validation& a) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> busy;
  for (const auto& b : a.map->blocks) busy.emplace_back(b.phys, b.end());
  for (auto p : a.map->metadata_pages) busy.emplace_back(p, p + kPage);
  if (a.fdt_phys) busy.emplace_back(*a.fdt_phys, *a.fdt_phys + kPage);
  std::sort(busy.begin(), busy.end());
  model::ScratchArea best;
  for (const auto& r : mc.ram) {
    if (r.base >= (4ull << 30)) continue;
    std::uint64_t cur = std::max<std::uint64_t>(r.base, 16u << 20);
    const std::uint64_t end = r.base + r.size;
    auto consider = [&](std::uint64_t from, std::uint64_t to) {
      from = (from + kPageblock - 1) & ~(kPageblock - 1);
      to &= ~(kPageblock - 1);
      if (to > from && to - from > best.size) best = {from, std::min<std::uint64_t>(to - from, 512u << 20)};
    };
    for (const auto& [s, e] : busy) {
      if (e <= cur || s >= end) continue;
      consider(cur, std::min(s, end));
      cur = std::max(cur, e);
    }
    if (cur < end) consider(cur, end);
  }
  if (!best.size) return {};
  return {best};
}

// B's command line when none is given: KHO and LUO on, and every reserve_mem
// region A preserved asked for again by name.
std::string assumed_cmdline(const Handover& h) {
  std::string c = "kho=on liveupdate=on";
  for (const auto* n : h.find_all("reserve_mem")) {
    const auto* size = n->field("size");
    if (size && size->number) c += " reserve_mem=" + std::to_string(*size->number) + ":4096:" + n->name;
  }
  return c;
}

bool cmdline_word(const std::string& cmdline, const std::string& word) {
  std::istringstream in(cmdline);
  std::string w;
  while (in >> w)
    if (w == word) return true;
  return false;
}

// reserve_mem=SIZE:ALIGN:NAME asks for NAME.
bool cmdline_reserves(const std::string& cmdline, const std::string& name) {
  std::istringstream in(cmdline);
  std::string w;
  while (in >> w)
    if (w.rfind("reserve_mem=", 0) == 0 && w.size() > name.size() && w.compare(w.size() - name.size(), name.size(), name) == 0 &&
        w[w.size() - name.size() - 1] == ':')
      return true;
  return false;
}

// The last line of B's model dmesg that starts with `prefix`.
std::string last_log(const Kernel& k, std::string_view prefix) {
  std::string out;
  for (const auto& l : k.dmesg())
    if (l.rfind(prefix, 0) == 0) out = l;
  return out;
}


std::string config_value(const NextKernel& b, const std::string& option) {
  if (!b.config) return "";
  auto it = b.config->find("CONFIG_" + option);
  return it == b.config->end() ? "n" : it->second;
}

struct Run {
  const Validation& a;
  const MemoryImage& image;
  const NextKernel& nb;
  Kernel* b = nullptr;
  std::string cmdline;
  Preflight& out;

  // Items are named by index: adding one may move the others.
  std::size_t add(std::string kind, std::string name, std::string path) {
    out.items.push_back({std::move(kind), std::move(name), std::move(path), "", "", ""});
    return out.items.size() - 1;
  }
  PreflightItem& at(std::size_t i) { return out.items[i]; }
  void set(std::size_t i, std::string outcome, std::string why, std::string decided_by) {
    at(i).outcome = std::move(outcome);
    at(i).why = std::move(why);
    at(i).decided_by = std::move(decided_by);
  }
  std::string b_name() const { return "B (" + (nb.release.empty() ? nb.era : nb.release) + ")"; }
};

// The root and the map: does B revive the hand-over at all, and read the set A preserved?
bool judge_root(Run& r) {
  const Handover& h = *r.a.handover;
  const std::string compat = h.root.format.empty() ? r.a.abi : h.root.format;
  const std::size_t root = r.add("root", compat, "/");
  const std::size_t map = r.add("map", std::to_string(r.a.map->blocks.size()) + " blocks", "/ -> preserved-memory-map");
  if (r.b->kho_boot()) {
    r.set(root, "revive", "B's kho_populate() accepts " + quoted(compat), "kho_populate()");
    std::set<std::pair<std::uint64_t, unsigned>> sent, got;
    for (const auto& b : r.a.map->blocks) sent.emplace(b.phys, b.order);
    for (const auto& b : r.b->incoming_blocks()) got.emplace(b.phys, b.order);
    if (sent == got) {
      r.set(map, "revive", "B reserves the " + std::to_string(sent.size()) + " blocks A preserved", "kho_mem_deserialize()");
      return true;
    }
    std::size_t lost = 0;
    for (const auto& b : sent) lost += !got.count(b);
    r.set(map, "misread",
          "B decodes " + std::to_string(got.size()) + " blocks where A preserved " + std::to_string(sent.size()) + " (" +
              std::to_string(lost) + " of A's not among them): B reads the map in another layout",
          "kho_mem_deserialize()");
    return false;
  }
  // (A B built without CONFIG_KEXEC_HANDOVER never reaches the model: preflight().)
  std::string why, by;
  if (!r.b->kho_enabled()) {
    why = "B's command line has no kho=on" +
          std::string(config_value(r.nb, "KEXEC_HANDOVER_ENABLE_DEFAULT") == "y" ? "" :
                      " (and KHO is not enabled by default)") + ": B boots cold";
    by = "B's command line";
  } else {
    why = last_log(*r.b, "KHO: setup:");  // the reason (incompatible, invalid), not the "disabling" that follows
    if (why.empty()) why = last_log(*r.b, "KHO:");
    if (why.empty()) why = "B's kho_populate() did not take the hand-over";
    by = "kho_populate()";
  }
  r.set(root, "refuse", why + "; A's memory is not protected", by);
  r.set(map, "refuse", "the root is refused: B reserves none of A's blocks", by);
  return false;
}

void judge_reserve_mem(Run& r, const HandoverNode& client, bool root_ok) {
  auto* rm = model::client_of<model::ReserveMemClient>(*r.b);
  for (const auto& n : client.children) {
    if (n.kind != "reserve_mem") continue;
    const std::size_t i = r.add("reserve_mem", n.name, n.path);
    if (!root_ok) {
      r.set(i, r.out.items[1].outcome, "the hand-over is not revived", r.out.items[1].decided_by);
      continue;
    }
    if (!cmdline_reserves(r.cmdline, n.name)) {
      r.set(i, "dropped",
            "B's command line has no reserve_mem=SIZE:ALIGN:" + n.name +
                ": B never asks for the region, which stays reserved and is lost",
            "B's command line");
      continue;
    }
    bool revived = false;
    if (rm)
      for (const auto& reg : rm->regions()) revived |= reg.name == n.name && reg.revived;
    if (revived)
      r.set(i, "revive", "B's reserve_mem " + quoted(n.name) + " takes A's range", "reserve_mem_kho_revive()");
    else
      r.set(i, "refuse", "B allocates " + quoted(n.name) + " afresh: " + last_log(*r.b, "FDT 'memblock'"),
            "reserve_mem_kho_revive()");
  }
}

void judge_luo(Run& r, const HandoverNode& client, bool root_ok) {
  const std::size_t li = r.add("luo", client.format, client.path);
  model::LuoClient* l = r.b->luo();
  std::string panic;
  for (const auto& f : r.b->findings())
    if (f.id == "HAZARD_LUO_PANIC") panic = f.detail;
  std::string state, by = "luo_early_startup()";
  if (!root_ok) {
    state = r.out.items[1].outcome;
    r.set(li, state, "the hand-over is not revived", r.out.items[1].decided_by);
  } else if (!l) {
    state = "dropped";
    const bool off = config_value(r.nb, "LIVEUPDATE") == "n";
    r.set(li, state,
          off ? "B is built without CONFIG_LIVEUPDATE: nothing reads /LUO, its memory stays reserved and is lost"
              : r.b_name() + " has no LUO: nothing reads /LUO, its memory stays reserved and is lost",
          off ? "B's configuration" : "B's release");
  } else if (!panic.empty()) {
    state = "refuse";
    r.set(li, state, "B panics: " + panic + " (the whole boot fails)", by);
  } else if (!l->enabled()) {
    // luo_early_startup(): no live update without liveupdate=on, nor without KHO
    // (kho=on): no /dev/liveupdate, so nothing of A's LUO is reachable.
    state = "refuse";
    const std::string off = last_log(*r.b, "luo: Disabling liveupdate");
    r.set(li, state,
          (off.empty() ? std::string("B's command line has no liveupdate=on") : off) +
              ": B has no /dev/liveupdate, no session of A comes back",
          "B's command line");
  } else {
    state = "revive";
    r.set(li, state, "B reads " + quoted(client.format), by);
  }
  const auto sessions = [&] {
    std::vector<const HandoverNode*> v;
    std::vector<const HandoverNode*> stack{&client};
    while (!stack.empty()) {
      const HandoverNode* n = stack.back();
      stack.pop_back();
      if (n->kind == "session") v.push_back(n);
      for (const auto& c : n->children) stack.push_back(&c);
    }
    return v;
  }();
  if (sessions.empty())
    r.out.notes.push_back("/LUO holds no session: LUO writes its sessions in kexec -e's reboot path, so a hand-over "
                          "read before it shows none (capture at machine_kexec, as khospec vmtest does, to see them)");
  // Why a file has no handler in B, when B's build says.
  auto no_handler_cause = [&](const std::string& fmt) -> std::pair<std::string, std::string> {
    if (config_value(r.nb, "LIVEUPDATE_MEMFD") == "n" && fmt.rfind("memfd", 0) == 0)
      return {"B is built without CONFIG_LIVEUPDATE_MEMFD: no handler for " + quoted(fmt), "B's configuration"};
    if (r.nb.missing_compatibles.count(fmt))
      return {"B's image does not hold " + quoted(fmt) + ": its handler has another compatible", "B's image"};
    return {"", ""};
  };
  bool all_fail = false;
  for (const HandoverNode* s : sessions) {
    const std::size_t si = r.add("luo_session", s->name, s->path);
    int sfd = -1;
    if (state != "revive") {
      r.set(si, state, "LUO: " + state, r.at(li).decided_by);
    } else {
      sfd = r.b->luo_retrieve_session(s->name);
      if (sfd >= 0) {
        r.set(si, "revive", "B retrieves session " + quoted(s->name), "luo_session_deserialize()");
      } else {
        // One file without a handler fails luo_session_deserialize() as a whole (7.3).
        std::string cause;
        for (const auto& f : s->children)
          if (const HandoverNode* m = f.child("memfd"); m && cause.empty()) cause = no_handler_cause(m->format).first;
        const std::string nh = last_log(*r.b, "luo: No registered handler");
        all_fail = true;
        r.set(si, "refuse",
              "B cannot deserialize it (" + std::to_string(sfd) + "): " + (nh.empty() ? last_log(*r.b, "luo:") : nh) +
                  (cause.empty() ? "" : " (" + cause + ")"),
              "luo_session_deserialize()");
      }
    }
    for (const auto& f : s->children) {
      if (f.kind != "file") continue;
      const std::size_t fi = r.add("luo_file", "token " + f.name, f.path);
      const HandoverNode* memfd = f.child("memfd");
      const std::string fmt = memfd ? memfd->format : f.format;
      if (sfd < 0) {
        r.set(fi, r.at(si).outcome, "its session: " + r.at(si).outcome, r.at(si).decided_by);
      } else {
        const std::uint64_t token = parse_u64(f.name).value_or(0);
        const int fd = r.b->luo_retrieve_fd(sfd, token);
        if (fd >= 0)
          r.set(fi, "revive", "B retrieves the " + (fmt.empty() ? std::string("file") : quoted(fmt)) + " file",
                "luo_file_deserialize()");
        else
          r.set(fi, "refuse", "B's LIVEUPDATE_SESSION_RETRIEVE_FD fails (" + std::to_string(fd) + ")",
                "luo_retrieve_file()");
      }
      if (memfd) {
        const std::size_t mi = r.add("memfd", "token " + f.name, memfd->path);
        const auto [cause, cause_by] = no_handler_cause(memfd->format);
        if (r.at(fi).outcome != "revive" && !cause.empty())
          r.set(mi, r.at(fi).outcome, cause, cause_by);
        else
          r.set(mi, r.at(fi).outcome, "its LUO file: " + r.at(fi).outcome, r.at(fi).decided_by);
      }
    }
  }
  if (all_fail && r.at(li).outcome == "revive")
    r.set(li, "refuse",
          "B reads " + quoted(client.format) + " but luo_session_deserialize() fails, so every open of "
          "/dev/liveupdate gives EIO: no session of A comes back",
          "luo_open()");
}

// Some `kind` node below `n` occupies memory the image does not hold (a
// capture of metadata pages only): content checks in B ran on zeros.
bool lacks_contents(const Run& r, const HandoverNode& n, std::string_view kind) {
  if (n.kind == kind && n.size && !r.image.contains(n.phys, n.size)) return true;
  for (const auto& c : n.children)
    if (lacks_contents(r, c, kind)) return true;
  return false;
}

void judge_clients(Run& r, bool root_ok) {
  const Handover& h = *r.a.handover;
  for (const auto& c : h.root.children) {
    if (c.kind != "client") continue;
    const std::string family = [&] {
      for (const auto& f : registry::client_formats())
        if (f.label() == c.format) return std::string(f.family);
      return std::string();
    }();
    if (family == "memblock") {
      judge_reserve_mem(r, c, root_ok);
      continue;
    }
    if (family == "luo") {
      judge_luo(r, c, root_ok);
      continue;
    }
    const std::size_t i = r.add(family.empty() ? "client" : family == "kho_test" ? "test_kho" : family, c.name, c.path);
    if (!root_ok) {
      r.set(i, r.out.items[1].outcome, "the hand-over is not revived", r.out.items[1].decided_by);
      continue;
    }
    if (family == "kexec-metadata") {
      auto* md = model::client_of<model::KexecMetadataClient>(*r.b);
      const auto* count = c.field("kexec_count");
      if (!md) {
        r.set(i, "dropped", r.b_name() + " has no kexec-metadata: the blob stays reserved and is lost", "B's release");
      } else if (count && count->number && md->count() == *count->number + 1) {
        r.set(i, "revive", "B counts kexec " + std::to_string(md->count()) + " after A's " + std::to_string(*count->number),
              "kho_in_kexec_metadata()");
      } else {
        r.set(i, "refuse", "B's kexec_count is " + std::to_string(md->count()) + ": it did not read A's blob",
              "kho_in_kexec_metadata()");
      }
    } else if (family == "kho_test") {
      auto* t = model::client_of<model::TestKhoClient>(*r.b);
      if (!t)
        r.set(i, "dropped", "B has no test_kho (CONFIG_TEST_KEXEC_HANDOVER): its folios stay reserved and are lost",
              "B's configuration");
      else if (t->restored_ok())
        r.set(i, "revive", "B's test_kho: KHO restore succeeded", "kho_test_restore()");
      else if (lacks_contents(r, c, "folio"))
        r.set(i, "unknown",
              "A's memory image lacks some of test_kho's folios, whose checksum B's test_kho compares (here: " +
                  last_log(*r.b, "test_kho") + "): give a whole memory image (QEMU dump-guest-memory, --live)",
              "kho_test_restore()");
      else
        r.set(i, "refuse", "B's test_kho restore fails: " + last_log(*r.b, "test_kho"), "kho_test_restore()");
    } else {
      r.set(i, "dropped",
            "B has no reader for " + c.path + (c.format.empty() ? "" : " (" + c.format + ")") +
                ": its memory stays reserved and is lost",
            "B's release");
    }
  }
}

}  // namespace

bool Preflight::all_revive() const {
  return std::all_of(items.begin(), items.end(), [](const PreflightItem& i) { return i.outcome == "revive"; });
}

namespace {
// The compatibles preflight asks B's image about (every client format and root of the registry).
std::vector<std::string> preflight_probe_strings() {
  std::vector<std::string> v;
  for (const auto& f : registry::client_formats())
    if (!f.compatible.empty() && std::find(v.begin(), v.end(), f.compatible) == v.end()) v.emplace_back(f.compatible);
  for (const auto& e : registry::eras())
    if (std::find(v.begin(), v.end(), e.compatible) == v.end()) v.emplace_back(e.compatible);
  return v;
}
}  // namespace

std::optional<NextKernel> next_kernel(const std::string& kind, const std::string& name,
                                      std::optional<std::string> cmdline, std::string& error_kind, std::string& error) {
  NextKernel b;
  b.named = name;
  b.cmdline = std::move(cmdline);
  if (kind != "kernel") {
    if (!registry::resolve(name)) {
      error_kind = "usage";
      error = "'" + name + "' is not " + registry::valid_names();
      return std::nullopt;
    }
    b.source = kind;
    if (kind == "release") b.release = name;
    return b;
  }
  ReadOptions ro;
  ro.strings = preflight_probe_strings();
  auto r = read_kernel_image(name, ro);
  if (!r.ok()) {
    error_kind = r.error_kind;
    error = name + ": " + r.error + " (khospec kimage shows what the image holds)";
    return std::nullopt;
  }
  b.source = "kernel image";
  b.release = r.image->release;
  auto res = registry::resolve(b.release);
  if (!res) {
    error_kind = "unknown_release";
    error = name + ": release " + b.release + " has no KHO era khospec knows (" + registry::valid_names() + ")";
    return std::nullopt;
  }
  if (r.image->config) b.config = r.image->config->values;
  // A compatible B's release writes that its image does not hold; families its
  // configuration leaves out are said by the configuration instead.
  auto built = [&](std::string_view option) {
    if (!b.config) return true;
    auto it = b.config->find("CONFIG_" + std::string(option));
    return it != b.config->end() && (it->second == "y" || it->second == "m");
  };
  for (const auto& f : registry::client_formats()) {
    if (f.compatible.empty() || !registry::kernel_writes(*res->era, *res->release, f)) continue;
    if ((f.family == "kho_test" && !built("TEST_KEXEC_HANDOVER")) || (f.family == "memfd" && !built("LIVEUPDATE_MEMFD")) ||
        ((f.family == "luo" || f.family == "luo-flb" || f.family == "memfd") && !built("LIVEUPDATE")))
      continue;
    auto it = r.image->strings.find(std::string(f.compatible));
    if (it != r.image->strings.end() && !it->second) b.missing_compatibles.insert(std::string(f.compatible));
  }
  return b;
}

std::optional<Preflight> preflight(const Validation& a, const MemoryImage& image, NextKernel nb,
                                   const PreflightOptions& opts, std::string& error) {
  if (!a.handover || !a.map || !a.fdt_phys) {
    error = "A's hand-over could not be followed (root FDT, its map and its memory are all needed): run khospec "
            "validate on it to see why";
    return std::nullopt;
  }
  const std::string name = nb.release.empty() ? nb.named : nb.release;
  auto cfg = model::kernel_config_for(name);
  if (!cfg) {
    error = "no release or era named '" + name + "' (khospec model --help lists them)";
    return std::nullopt;
  }
  nb.era = std::string(registry::era_name(cfg->era));
  Preflight out;
  out.a_abi = a.abi;
  out.b = nb;
  const std::string cmdline = nb.cmdline ? *nb.cmdline : assumed_cmdline(*a.handover);
  if (!nb.cmdline)
    out.notes.push_back("B's command line not given: assumed `" + cmdline + "` (give --cmdline with what kexec -s -l gets)");
  cfg->cmdline = cmdline;
  out.b_cmdline = cmdline;
  // What B's build says about itself.
  if (nb.config) {
    if (config_value(nb, "KEXEC_HANDOVER") == "n") cfg->cmdline = "";
    cfg->kho_default = config_value(nb, "KEXEC_HANDOVER_ENABLE_DEFAULT") == "y";
    cfg->test_kho = config_value(nb, "TEST_KEXEC_HANDOVER") == "y";
  } else {
    cfg->test_kho = !a.handover->find_all("client").empty() &&
                    std::any_of(a.handover->root.children.begin(), a.handover->root.children.end(),
                                [](const HandoverNode& n) { return n.format == "kho-test-v1"; });
    if (nb.source != "kernel image")
      out.notes.push_back("B's configuration is not known (name B by its image for IKCONFIG): assumed KHO, LUO and "
                          "the memfd handler built in, test_kho as in A");
  }
  for (const auto& f : registry::client_formats()) {
    const bool luo_off = config_value(nb, "LIVEUPDATE") == "n" && (f.family == "luo" || f.family == "luo-flb" || f.family == "memfd");
    const bool memfd_off = config_value(nb, "LIVEUPDATE_MEMFD") == "n" && f.family == "memfd";
    if (luo_off || memfd_off || (!f.compatible.empty() && nb.missing_compatibles.count(std::string(f.compatible))))
      cfg->absent_formats.insert(f.label());
  }
  if (config_value(nb, "KEXEC_HANDOVER") == "n") {
    // No kho_populate() at all: nothing of A's is reserved, every byte is free memory in B.
    out.items.push_back({"root", a.abi, "/", "refuse",
                         "B is built without CONFIG_KEXEC_HANDOVER: it cannot revive a hand-over; A's memory is not protected",
                         "B's configuration"});
    for (const auto& c : a.handover->root.children)
      if (c.kind == "client")
        out.items.push_back({"client", c.name, c.path, "refuse", "the hand-over is not revived", "B's configuration"});
    return out;
  }
  if (!cmdline_word(cmdline, "kho=on") && config_value(nb, "KEXEC_HANDOVER_ENABLE_DEFAULT") != "y")
    out.notes.push_back("B's command line has no kho=on: B revives A's hand-over (kho_populate() needs only the "
                        "hand-off record) but will not hand over to the kernel after it");
  const std::uint64_t ram = opts.ram ? opts.ram : ram_for(image);
  model::Machine m(model::machine_with_ram(ram));
  // A page from whatever the image holds of it (captures keep single objects,
  // e.g. a 512-byte 6.16 bitmap, not whole pages); the rest reads as zeros.
  m.image().set_source([&image](std::uint64_t pfn, std::uint8_t* page) {
    const std::uint64_t lo = pfn * kPage, hi = lo + kPage;
    if (image.read(lo, std::span<std::uint8_t>(page, kPage))) return true;
    std::memset(page, 0, kPage);
    bool any = false;
    for (const auto& s : image.segments()) {
      const std::uint64_t from = std::max(lo, s.paddr), to = std::min(hi, s.paddr + s.size);
      if (from < to && image.read(from, std::span<std::uint8_t>(page + (from - lo), to - from))) any = true;
    }
    return any;
  });
  std::vector<model::ScratchArea> scratch;
  for (const auto& s : opts.scratch)
    if (s.size) scratch.push_back({s.addr, s.size});
  if (scratch.empty()) {
    scratch = pick_scratch(m.config(), a);
    if (!scratch.empty())
      out.notes.push_back("A's scratch areas not given (--scratch, or debugfs out/ with --live): B boots from " +
                          hex(scratch[0].addr) + "+" + hex(scratch[0].size) + ", RAM no preserved block uses");
  }
  // The root FDT as given (a capture's memory may lack its page; the FILE is what A wrote there).
  if (a.blob.ok()) m.image().write(*a.fdt_phys, a.blob.bytes());
  Kernel* b = m.boot_from_handover(*cfg, scratch, *a.fdt_phys, kPage);
  if (!b) {
    error = "no scratch area can hold B's kernel image and hand-off record (give A's scratch with --scratch)";
    return std::nullopt;
  }
  Run r{a, image, out.b, b, cmdline, out};
  const bool root_ok = judge_root(r);
  judge_clients(r, root_ok);
  out.b_log = b->dmesg();
  for (const auto& t : b->timeline()) out.b_steps.push_back(t.what);
  for (const auto& f : b->findings()) out.b_steps.push_back(f.level + " " + f.id + ": " + f.detail);
  return out;
}

// ---------------------------------------------------------------- output ----

void render_preflight_text(std::ostream& os, const Preflight& p) {
  os << "A: " << p.a_abi << "\n";
  os << "B: " << (p.b.release.empty() ? p.b.named : p.b.release) << " (era " << p.b.era << ", from the "
     << p.b.source << (p.b.source == "kernel image" ? " " + p.b.named : "") << ")\n";
  os << "B's command line: " << p.b_cmdline << "\n";
  std::size_t w = 0;
  for (const auto& i : p.items) w = std::max(w, i.kind.size() + 1 + i.name.size());
  for (const auto& i : p.items) {
    const std::string what = i.kind + " " + i.name;
    os << "  " << what << std::string(w - what.size() + 2, ' ') << i.outcome << std::string(9 - std::min<std::size_t>(8, i.outcome.size()), ' ')
       << i.why << "  [" << i.decided_by << "]\n";
  }
  for (const auto& n : p.notes) os << "note: " << n << "\n";
  std::size_t bad = 0;
  for (const auto& i : p.items) bad += i.outcome != "revive";
  os << (bad ? std::to_string(bad) + " of " + std::to_string(p.items.size()) + " items do not revive in B\n"
             : "everything A preserved revives in B\n");
}

void write_preflight_json(JsonWriter& w, const Preflight& p) {
  w.begin_object();
  w.key("a").begin_object().key("abi").value(p.a_abi).end_object();
  w.key("b").begin_object();
  w.key("named").value(p.b.named);
  w.key("source").value(p.b.source);
  w.key("release").value(p.b.release);
  w.key("era").value(p.b.era);
  w.key("cmdline").value(p.b_cmdline);
  w.key("cmdline_given").value(p.b.cmdline.has_value());
  w.key("config");
  if (p.b.config) {
    w.begin_object();
    for (const char* o : {"CONFIG_KEXEC_HANDOVER", "CONFIG_KEXEC_HANDOVER_ENABLE_DEFAULT", "CONFIG_LIVEUPDATE",
                          "CONFIG_LIVEUPDATE_MEMFD", "CONFIG_TEST_KEXEC_HANDOVER"}) {
      auto it = p.b.config->find(o);
      w.key(o).value(it == p.b.config->end() ? "n" : it->second);
    }
    w.end_object();
  } else {
    w.null();
  }
  w.key("missing_compatibles").begin_array();
  for (const auto& s : p.b.missing_compatibles) w.value(s);
  w.end_array();
  w.end_object();
  w.key("items").begin_array();
  for (const auto& i : p.items) {
    w.begin_object();
    w.key("kind").value(i.kind);
    w.key("name").value(i.name);
    w.key("path").value(i.path);
    w.key("outcome").value(i.outcome);
    w.key("why").value(i.why);
    w.key("decided_by").value(i.decided_by);
    w.end_object();
  }
  w.end_array();
  w.key("all_revive").value(p.all_revive());
  w.key("notes").begin_array();
  for (const auto& n : p.notes) w.value(n);
  w.end_array();
  w.key("b_log").begin_array();
  for (const auto& l : p.b_log) w.value(l);
  w.end_array();
  w.end_object();
}

}  // namespace khospec::conformance
