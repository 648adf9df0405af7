// The Kernel object and its boot sequence: cmdline, memblock, early
// allocations, kho_memory_init(), memblock_free_all(), kho_init(), the
// client initcalls (docs/kernel-behaviour.md "Boot sequence").
#include "model/kho/kernel.hpp"

#include "core/parse.hpp"
#include "model/kho/kernel_internal.hpp"
#include "model/kho/luo.hpp"
#include "model/kho/memfd.hpp"

namespace khospec::model {

using namespace kernel_detail;

namespace {

MemblockConfig memblock_config() {
  MemblockConfig c;
  c.era = Era::v6_16;  // every KHO era runs on the 6.16+ memblock
  c.arch_low_address_limit = ARCH_LOW_ADDRESS_LIMIT;
  c.self_check = true;  // memblock's transition invariants (items 6, 7, 13) on every call
  return c;
}


}  // namespace

std::string_view boot_phase_name(BootPhase p) {
  switch (p) {
    case BootPhase::cold: return "COLD";
    case BootPhase::populated: return "POPULATED";
    case BootPhase::deserialized: return "DESERIALIZED";
    case BootPhase::buddy: return "BUDDY";
    case BootPhase::running: return "RUNNING";
    case BootPhase::kexeced: return "KEXECED";
    case BootPhase::failed: return "FAILED";
  }
  return "?";
}

std::optional<KernelConfig> kernel_config_for(std::string_view name, std::string cmdline) {
  auto r = registry::resolve(name);
  if (!r) return std::nullopt;
  KernelConfig c;
  c.era = r->era->id;
  c.release = uname_release(*r);
  c.cmdline = std::move(cmdline);
  return c;
}

Kernel::Kernel(Board board, KernelConfig cfg, BootInfo boot, int index)
    : board_(board),
      cfg_(std::move(cfg)),
      era_(era_traits(cfg_.era)),
      release_(kernel_release(cfg_.era, cfg_.release)),
      boot_(boot),
      index_(index),
      mb_(memblock_config()),
      buddy_(board.image()),
      memfds_(std::make_unique<MemfdTable>(*this)) {}

Kernel::~Kernel() = default;

bool Kernel::writes(std::string_view label) const {
  if (cfg_.absent_formats.count(std::string(label))) return false;
  for (const auto& f : registry::client_formats())
    if (f.label() == label && registry::kernel_writes(era_, release_, f)) return true;
  return false;
}

const registry::ClientFormat* Kernel::format_of(std::string_view family) const {
  for (const auto& f : registry::client_formats())
    if (f.family == family && registry::kernel_writes(era_, release_, f)) return &f;
  return nullptr;
}

std::string Kernel::uname() const { return cfg_.release.empty() ? uname_of(release_) : cfg_.release; }

LuoClient* Kernel::luo() { return dynamic_cast<LuoClient*>(client("LUO")); }
const LuoClient* Kernel::luo() const {
  for (const auto& c : clients_)
    if (c->name() == "LUO") return dynamic_cast<const LuoClient*>(c.get());
  return nullptr;
}

PhysImage& Kernel::image() { return board_.image(); }
const PhysImage& Kernel::image() const { return board_.image(); }

KhoClient* Kernel::client(const std::string& name) {
  for (auto& c : clients_) {
    if (c->name() == name) return c.get();
  }
  return nullptr;
}

void Kernel::log(std::string line) { dmesg_.push_back(std::move(line)); }
void Kernel::note(std::string what) { timeline_.push_back({std::move(what)}); }

void FindingBatch::add(const std::string& id, const std::string& level, const std::string& detail) {
  for (const auto& f : v_) {
    if (f.id == id) {
      ++more_[id];
      return;
    }
  }
  v_.push_back({id, level, detail});
}

std::vector<Finding> FindingBatch::take() const {
  std::vector<Finding> out = v_;
  for (auto& f : out) {
    const auto it = more_.find(f.id);
    if (it != more_.end()) f.detail += " (and " + std::to_string(it->second) + " more)";
  }
  return out;
}

std::vector<Finding> FindingBatch::report(Kernel& k) const {
  auto out = take();
  for (const auto& f : out) k.finding(f.id, f.level, f.detail);
  return out;
}

void Kernel::finding(std::string id, std::string level, std::string detail) {
  for (const auto& f : findings_) {
    if (f.id == id && f.detail == detail) return;  // report each violation once
  }
  findings_.push_back({std::move(id), std::move(level), std::move(detail)});
}

// ---------------------------------------------------------------- boot ----

void Kernel::boot() {
  cmd_ = parse_cmdline(era_, cfg_.cmdline, cfg_.kho_default, release_);
  kho_enable_ = cmd_.kho;
  for (const auto& e : cmd_.errors) log("early param error: " + e);
  for (const auto& l : cmd_.log) log(l);
  note(std::string("boot (") + (boot_.kexec ? "kexec" : "cold") + "), era " + std::string(era_.name) +
       ", release " + std::string(release_.version) + ", cmdline \"" + cfg_.cmdline + "\"");
  setup_memblock();
  if (phase_ == BootPhase::failed) return;
  // Early params (reserve_mem=) run before the memmap and other early
  // allocations exist.
  for (auto& c : clients_) c->early_boot(*this);
  early_allocations();
  if (phase_ == BootPhase::failed) return;
  kho_memory_init();
  memblock_free_all_step();
  kho_init();
  for (auto& c : clients_) c->init(*this);
  if (phase_ != BootPhase::failed) phase_ = BootPhase::running;
  check_invariants();
  note("running: out state " + std::string(out_state_name(out_state_)));
}

void Kernel::setup_memblock() {
  const auto& mc = board_.config();
  // The hand-off record is parsed first (x86 parse_setup_data -> add_kho ->
  // kho_populate), before RAM from e820 is added: memblock_add of RAM then
  // leaves the scratch regions' KHO_SCRATCH flag alone.
  if (boot_.kexec && boot_.handoff_record) {
    auto bytes = image().read(boot_.handoff_record, static_cast<std::size_t>(boot_.handoff_len));
    std::optional<KhoBootData> d =
        mc.arch == Arch::x86_64 ? decode_setup_data(bytes) : decode_chosen(bytes);
    if (d) kho_populate(*d);
  }
  for (const auto& r : mc.ram) mb_.memblock_add(r.base, r.size);
  for (const auto& r : mc.ram) mb_.memblock_set_node(r.base, r.size, MemblockTypeId::memory, r.nid);
  if (mc.arch == Arch::x86_64) {
    // arch/x86: e820__memblock_setup() marks [0, 1M) scratch on a KHO boot so
    // the real-mode trampoline can be allocated; the first 1M is then
    // reserved and the mark cleared.
    if (kho_boot()) mb_.memblock_mark_kho_scratch(0, 1u << 20);
    mb_.memblock_reserve(0, 1u << 20);
    if (kho_boot()) mb_.memblock_clear_kho_scratch(0, 1u << 20);
  }
  phys_addr_t kimg = boot_.kexec ? boot_.kernel_image : mc.firmware_kernel_load;
  mb_.memblock_reserve_kern(kimg, cfg_.kernel_image_size);
  mb_.memblock_allow_resize();
  note("memblock: " + std::to_string(mb_.memory().cnt()) + " memory regions, kernel image at " + hex(kimg));
}

void Kernel::record_window_alloc(phys_addr_t a, std::uint64_t len) {
  if (mb_.kho_scratch_only() && a) window_allocs_.emplace_back(a, len);
}

void Kernel::early_allocations() {
  // The memmap (64-byte struct page per page of RAM) and other early boot
  // allocations (page tables, ...): RSRV_KERN, top-down, and -- on a KHO boot
  // -- only from scratch.
  for (int nid = 0; nid < board_.node_count(); ++nid) {
    std::uint64_t pages = 0;
    for (const auto& r : board_.config().ram)
      if (r.nid == nid) pages += r.size / PAGE_SIZE_4K;
    std::uint64_t bytes = (pages * 64 + PAGE_SIZE_4K - 1) / PAGE_SIZE_4K * PAGE_SIZE_4K;
    phys_addr_t a = mb_.memblock_alloc_try_nid(bytes, PAGE_SIZE_4K, 0, MEMBLOCK_ALLOC_ACCESSIBLE, nid);
    if (!a) {
      finding("HAZARD_EARLY_ALLOC_FAILED", "error",
              "memmap allocation of " + hex(bytes) + " bytes failed (scratch-only: " +
                  (mb_.kho_scratch_only() ? "yes" : "no") + "): the kernel panics");
      phase_ = BootPhase::failed;
      return;
    }
    record_window_alloc(a, bytes);
  }
  if (cfg_.boot_alloc_bytes) {
    phys_addr_t a = mb_.memblock_alloc(cfg_.boot_alloc_bytes, PAGE_SIZE_4K);
    if (!a) {
      finding("HAZARD_EARLY_ALLOC_FAILED", "error",
              "early boot allocation of " + hex(cfg_.boot_alloc_bytes) + " bytes failed: the kernel panics");
      phase_ = BootPhase::failed;
      return;
    }
    record_window_alloc(a, cfg_.boot_alloc_bytes);
  }
  if (cfg_.exhaust_scratch && mb_.kho_scratch_only()) {
    std::uint64_t pages = 0;
    for (phys_addr_t a; (a = mb_.memblock_alloc(PAGE_SIZE_4K, PAGE_SIZE_4K)) != 0; ++pages) record_window_alloc(a, PAGE_SIZE_4K);
    note("early allocations used up scratch (" + std::to_string(pages) + " more pages)");
  }
}

void Kernel::kho_reserve_scratch() {
  if (!kho_enable_) return;
  // scratch_size_update() / scratch_size_node() (6.16; rounding of explicit
  // sizes from 6.18).
  ScratchSizes s = cmd_.scratch;
  std::uint64_t lowmem = s.lowmem, global = s.global;
  const bool round_all = s.scale != 0 || era_.scratch_round_explicit;
  if (s.scale) {
    std::uint64_t low = mb_.memblock_reserved_kern_size(ARCH_LOW_ADDRESS_LIMIT, NUMA_NO_NODE) * s.scale / 100;
    lowmem = round_up_wrap(low, PAGEBLOCK_BYTES);
    std::uint64_t all = mb_.memblock_reserved_kern_size(MEMBLOCK_ALLOC_ANYWHERE, NUMA_NO_NODE) * s.scale / 100;
    std::uint64_t diff = all - lowmem;  // unsigned, as in the kernel
    global = round_up_wrap(diff, PAGEBLOCK_BYTES);
    if (all < lowmem) {
      finding("HAZARD_SCRATCH_GLOBAL_UNDERFLOW", "warning",
              "scratch_size_update(): reserved_kern_size(ANY)*" + std::to_string(s.scale) + "/100 = " +
                  hex(all) + " < lowmem " + hex(lowmem) + "; the unsigned difference wraps and rounds to " +
                  hex(global) + " (all RSRV_KERN memory is below ARCH_LOW_ADDRESS_LIMIT)");
    }
  } else if (round_all) {
    lowmem = round_up_wrap(lowmem, PAGEBLOCK_BYTES);
    global = round_up_wrap(global, PAGEBLOCK_BYTES);
  }
  const int nodes = board_.node_count();
  const std::uint64_t cnt = static_cast<std::uint64_t>(nodes) + 2;
  std::vector<ScratchArea> areas;
  phys_addr_t arr = mb_.memblock_alloc(cnt * 16, PAGE_SIZE_4K);
  auto fail = [&](const std::string& why) {
    for (auto it = areas.rbegin(); it != areas.rend(); ++it) mb_.memblock_phys_free(it->addr, it->size);
    if (arr) mb_.memblock_free(arr, cnt * 16);
    kho_enable_ = false;
    if (era_.scratch_round_explicit) log("KHO: Failed to reserve scratch area, disabling kexec handover");
    note("kho_reserve_scratch failed (" + why + "): KHO disabled");
  };
  if (!arr) return fail("descriptor array");
  phys_addr_t a = mb_.memblock_phys_alloc_range(lowmem, PAGEBLOCK_BYTES, 0, ARCH_LOW_ADDRESS_LIMIT);
  if (!a) return fail("lowmem " + hex(lowmem));
  areas.push_back({a, lowmem});
  a = mb_.memblock_phys_alloc(global, PAGEBLOCK_BYTES);
  if (!a) return fail("global " + hex(global));
  areas.push_back({a, global});
  for (int nid = 0; nid < nodes; ++nid) {
    // Without CONFIG_NUMA memblock_get_region_node() is 0 for every region,
    // so a one-node machine counts all RSRV_KERN memory, scratch included.
    int count_nid = nodes == 1 ? NUMA_NO_NODE : nid;
    std::uint64_t size = s.scale ? mb_.memblock_reserved_kern_size(MEMBLOCK_ALLOC_ANYWHERE, count_nid) * s.scale / 100
                                 : s.pernode;
    size = round_up_wrap(size, PAGEBLOCK_BYTES);
    a = mb_.memblock_alloc_range_nid(size, PAGEBLOCK_BYTES, 0, MEMBLOCK_ALLOC_ACCESSIBLE, nid, true);
    if (!a) return fail("node " + std::to_string(nid) + " " + hex(size));
    areas.push_back({a, size});
  }
  scratch_ = areas;
  scratch_array_phys_ = arr;
  image().write(arr, encode_scratch_array(scratch_));
  std::string line = "kho_reserve_scratch:";
  for (const auto& x : scratch_) line += " [" + hex(x.addr) + "+" + hex(x.size) + "]";
  note(line);
}

void Kernel::kho_memory_init() {
  if (kho_in_scratch_) {
    kho_release_scratch();
    kho_mem_deserialize_in();
    phase_ = BootPhase::deserialized;
    if (!era_.root_fdt_at_boot && kho_in_fdt_) {
      unsigned order = 0;
      if (!kho_restore_folio(kho_in_fdt_, &order)) log("KHO: failed to restore folio for KHO fdt");
    }
    check_invariants();
  } else {
    kho_reserve_scratch();
  }
}

void Kernel::memblock_free_all_step() {
  for (std::uint64_t pfn : cma_pageblocks_)
    buddy_.add_cma(pfn * PAGE_SIZE_4K, pfn * PAGE_SIZE_4K + PAGEBLOCK_BYTES);
  FreeAllResult r = mb_.memblock_free_all();
  for (const auto& c : r.chunks)
    buddy_.add_free(c.pfn * PAGE_SIZE_4K, (c.pfn + (c.count << c.order)) * PAGE_SIZE_4K);
  phase_ = BootPhase::buddy;
  note("memblock_free_all: " + std::to_string(r.pages) + " pages to the buddy allocator");
  check_invariants();
}

void Kernel::kho_init() {
  // The tracker exists once the page allocator is up (the 6.16 tracker is a
  // static xarray; the radix root is allocated by kho_init()).
  track_ = std::make_unique<MemTrack>(era_.mem_map, image(), buddy_);
  if (!kho_enable_) {
    out_state_ = OutState::disabled;
    return;
  }
  out_state_ = OutState::idle;
  if (era_.root_fdt_at_boot) {
    // 6.19+: the root FDT page is kho_alloc_preserve(PAGE_SIZE)'d and written now.
    std::int64_t page = kho_alloc_preserve(PAGE_SIZE_4K);
    if (page < 0) {
      kho_enable_ = false;
      out_state_ = OutState::disabled;
      note("kho_init: root FDT allocation failed, KHO disabled");
      return;
    }
    fdt_page_ = static_cast<phys_addr_t>(page);
    root_ = std::make_unique<RootFdt>(era_, image(), fdt_page_);
    root_->create(era_.mem_map == MemMapFormat::radix ? track_->radix_root() : 0);
  } else {
    // 6.16/6.18: alloc_page(GFP_KERNEL) -- not zeroed, written only at finalize.
    fdt_page_ = buddy_.alloc(PAGE_SIZE_4K, PAGE_SIZE_4K);
    if (fdt_page_) image().fill(fdt_page_, PAGE_SIZE_4K, 0x5a);  // stale contents
    root_ = std::make_unique<RootFdt>(era_, image(), fdt_page_);
  }
  note("kho_init (" + std::string(era_.kho_init_stage) + "): root FDT page " + hex(fdt_page_));
  if (kho_boot()) return;  // incoming hand-over: scratch is already CMA
  // Cold boot: init_cma_reserved_pageblock() on every scratch pageblock.
  for (const auto& a : scratch_) {
    for (phys_addr_t p = a.addr; p < a.addr + a.size; p += PAGEBLOCK_BYTES) {
      cma_pageblocks_.insert(p / PAGE_SIZE_4K);
      buddy_.add_cma(p, p + PAGEBLOCK_BYTES);
    }
  }
  note("kho_init: " + std::to_string(scratch_.size()) + " scratch areas became MIGRATE_CMA");
}

phys_addr_t Kernel::alloc_pages(unsigned order) {
  return buddy_.alloc(block_bytes(order), block_bytes(order));
}

void Kernel::free_pages(phys_addr_t phys, unsigned order) { buddy_.free(phys, block_bytes(order)); }

std::optional<phys_addr_t> Kernel::write_sub_fdt(const std::vector<std::uint8_t>& blob) {
  unsigned order = 0;
  while (block_bytes(order) < blob.size()) ++order;
  phys_addr_t p = alloc_pages(order);
  if (!p) return std::nullopt;
  image().write(p, blob);
  return p;
}

}  // namespace khospec::model
