#include "model/kho/kernel.hpp"

#include "core/parse.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>

extern "C" {
#include <libfdt.h>
}

#include "fdt/decode.hpp"
#include "model/kho/machine.hpp"

namespace khospec::model {

namespace {


std::uint64_t round_up_wrap(std::uint64_t x, std::uint64_t a) { return (x + a - 1) & ~(a - 1); }

bool overlap(phys_addr_t a, std::uint64_t al, phys_addr_t b, std::uint64_t bl) {
  return al && bl && a < b + bl && b < a + al;
}

std::uint64_t block_bytes(unsigned order) { return PAGE_SIZE_4K << order; }

// An FDT copied out of the image into an aligned buffer for libfdt.
struct ImageFdt {
  std::vector<std::uint64_t> buf;
  std::size_t len = 0;
  ImageFdt(const PhysImage& img, phys_addr_t at, std::size_t bytes) : buf(bytes / 8 + 1, 0), len(bytes) {
    img.read(at, std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(buf.data()), bytes));
  }
  const void* fdt() const { return buf.data(); }
};

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

Kernel::Kernel(Machine& machine, KernelConfig cfg, BootInfo boot, int index)
    : m_(machine),
      cfg_(std::move(cfg)),
      era_(era_traits(cfg_.era)),
      boot_(boot),
      index_(index),
      mb_(memblock_config()),
      buddy_(machine.image()) {}

Kernel::~Kernel() = default;

PhysImage& Kernel::image() { return m_.image(); }
const PhysImage& Kernel::image() const { return m_.image(); }

KhoClient* Kernel::client(const std::string& name) {
  for (auto& c : clients_) {
    if (c->name() == name) return c.get();
  }
  return nullptr;
}

void Kernel::log(std::string line) { dmesg_.push_back(std::move(line)); }
void Kernel::note(std::string what) { timeline_.push_back({std::move(what)}); }

void Kernel::finding(std::string id, std::string level, std::string detail) {
  for (const auto& f : findings_) {
    if (f.id == id && f.detail == detail) return;  // report each violation once
  }
  findings_.push_back({std::move(id), std::move(level), std::move(detail)});
}

// ---------------------------------------------------------------- boot ----

void Kernel::boot() {
  cmd_ = parse_cmdline(era_, cfg_.cmdline, cfg_.kho_default);
  kho_enable_ = cmd_.kho;
  for (const auto& e : cmd_.errors) log("early param error: " + e);
  for (const auto& l : cmd_.log) log(l);
  note(std::string("boot (") + (boot_.kexec ? "kexec" : "cold") + "), era " + std::string(era_.name) +
       ", cmdline \"" + cfg_.cmdline + "\"");
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
  const auto& mc = m_.config();
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
  for (int nid = 0; nid < m_.node_count(); ++nid) {
    std::uint64_t pages = 0;
    for (const auto& r : m_.config().ram)
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

void Kernel::kho_populate(const KhoBootData& d) {
  // kernel/kexec_handover.c kho_populate() (6.16), with the 6.19 map check.
  int err = 0;
  std::size_t len = static_cast<std::size_t>(std::min<std::uint64_t>(d.fdt_size, 1u << 20));
  ImageFdt f(image(), d.fdt_addr, std::max<std::size_t>(len, 64));
  std::vector<ScratchArea> areas;
  if (d.fdt_size < 40 || fdt_check_header(f.fdt()) != 0 ||
      (fdt_totalsize(f.fdt()) > len)) {
    log("KHO: setup: handover FDT (" + hex(d.fdt_addr) + ") is invalid: " +
        std::to_string(d.fdt_size < 40 ? -FDT_ERR_TRUNCATED : fdt_check_header(f.fdt())));
    err = K_EINVAL;
  } else if (int c = fdt_node_check_compatible(f.fdt(), 0, std::string(era_.compatible).c_str()); c != 0) {
    log("KHO: setup: handover FDT (" + hex(d.fdt_addr) + ") is incompatible with '" +
        std::string(era_.compatible) + "': " + std::to_string(c));
    err = K_EINVAL;
  } else if (era_.populate_needs_map) {
    int plen = 0;
    const auto* p = static_cast<const std::uint8_t*>(fdt_getprop(f.fdt(), 0, "preserved-memory-map", &plen));
    if (!p || plen != 8 || fdt::load_u64(p, fdt::Endian::little) == 0) err = K_ENOENT;
  }
  if (!err) {
    areas = decode_scratch_array(image().read(d.scratch_addr, static_cast<std::size_t>(d.scratch_size)));
    for (const auto& a : areas) {
      mb_.memblock_add(a.addr, a.size);
      int e = mb_.memblock_mark_kho_scratch(a.addr, a.size);
      if (e) {
        log("KHO: failed to mark the scratch region " + hex(a.addr) + "+" + hex(a.size) + ": " +
            std::to_string(e));
        err = e;
        break;
      }
    }
  }
  if (err) {
    log("KHO: disabling KHO revival: " + std::to_string(err));
    note("kho_populate: revival disabled (" + std::to_string(err) + ")");
    return;
  }
  mb_.memblock_reserve(d.scratch_addr, d.scratch_size);
  mb_.memblock_set_kho_scratch_only();
  kho_in_fdt_ = d.fdt_addr;
  kho_in_scratch_ = d.scratch_addr;
  scratch_ = areas;
  scratch_array_phys_ = d.scratch_addr;
  phase_ = BootPhase::populated;
  log("KHO: " + std::string(era_.populate_ok_msg));
  note("kho_populate: FDT " + hex(d.fdt_addr) + ", " + std::to_string(areas.size()) +
       " scratch areas, scratch-only on");
  check_invariants();
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
  const int nodes = m_.node_count();
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

void Kernel::kho_release_scratch() {
  // kho_release_scratch(): every KHO_SCRATCH memory range becomes
  // MIGRATE_CMA, rounded outward to pageblocks (kho-model.md §2.3 obs).
  const std::uint64_t pb_pages = PAGEBLOCK_BYTES / PAGE_SIZE_4K;
  for (const auto& r : mb_.memory().regions) {
    if (!(r.flags & MEMBLOCK_KHO_SCRATCH)) continue;
    std::uint64_t start = r.base / PAGE_SIZE_4K / pb_pages * pb_pages;
    std::uint64_t end = (r.end() + PAGE_SIZE_4K - 1) / PAGE_SIZE_4K;
    end = (end + pb_pages - 1) / pb_pages * pb_pages;
    for (std::uint64_t pfn = start; pfn < end; pfn += pb_pages) cma_pageblocks_.insert(pfn);
  }
}

void Kernel::kho_mem_deserialize_in() {
  ImageFdt f(image(), kho_in_fdt_, PAGE_SIZE_4K);
  int len = 0;
  const auto* p = static_cast<const std::uint8_t*>(fdt_getprop(f.fdt(), 0, "preserved-memory-map", &len));
  if (!p || len != 8) {
    log(era_.mem_map == MemMapFormat::radix ? "KHO: failed to get preserved KHO memory tree"
                                           : "KHO: failed to get preserved memory bitmaps");
    if (era_.mem_map == MemMapFormat::radix) kho_in_fdt_ = 0;  // kho_mem_retrieve(): withdraw
    return;
  }
  phys_addr_t map = fdt::load_u64(p, fdt::Endian::little);
  std::vector<DecodeIssue> issues;
  incoming_ = kho_mem_deserialize(image(), era_.mem_map, map, &issues);
  for (const auto& i : issues)
    finding("INV_KHO_MAP_DECODES", "error", "memory map at " + hex(i.at) + ": " + i.what);
  int failed = 0;
  for (const auto& b : incoming_) {
    // deserialize_bitmap() / kho_preserved_memory_reserve(): the return
    // values of both memblock calls are ignored (kho-model.md §2.3 obs).
    int r1 = mb_.memblock_reserve(b.phys, block_bytes(b.order));
    int r2 = mb_.memblock_reserved_mark_noinit(b.phys, block_bytes(b.order));
    if (r1 || r2) ++failed;
    std::uint64_t pfn = b.phys / PAGE_SIZE_4K;
    page_private_[pfn] = era_.page_magic ? (std::uint64_t{KHO_PAGE_MAGIC} << 32) | b.order : b.order;
  }
  if (failed)
    finding("INV_KHO_PRESERVED_RESERVED", "error",
            std::to_string(failed) + " preserved block(s) could not be memblock-reserved (the kernel ignores "
            "the error; the memory is unprotected)");
  note("kho_mem_deserialize: " + std::to_string(incoming_.size()) + " preserved blocks reserved (map " +
       hex(map) + ")");
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
    buddy_.add_free(c.pfn * PAGE_SIZE_4K, (c.pfn + (std::uint64_t{1} << c.order)) * PAGE_SIZE_4K);
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

// ------------------------------------------------------- state machine ----

int Kernel::run_event(OutEvent ev, const std::function<int()>& mutate) {
  auto t = find_transition(era_, out_state_, ev);
  if (!t) {
    if (ev == OutEvent::kexec_load) return do_kexec_load(false);
    if (ev == OutEvent::preserve || ev == OutEvent::unpreserve) return K_EOPNOTSUPP;
    return K_ENOENT;  // no such debugfs file / API in this era
  }
  int err = 0;
  switch (t->effect) {
    case Effect::none: err = t->ret; break;
    case Effect::mutate: err = mutate ? mutate() : 0; break;
    case Effect::finalize: err = do_finalize_616(); break;
    case Effect::abort: err = do_abort_616(); break;
    case Effect::refresh: err = do_refresh_619(); break;
    case Effect::load_with_kho: err = do_kexec_load(true); break;
    case Effect::load_plain: err = do_kexec_load(false); break;
  }
  OutState before = out_state_;
  if (t->effect == Effect::none) {
    out_state_ = t->on_success;
  } else {
    out_state_ = err ? t->on_failure : t->on_success;
  }
  if (ev != OutEvent::preserve && ev != OutEvent::unpreserve) {
    note(std::string(out_event_name(ev)) + ": " + std::string(out_state_name(before)) + " -> " +
         std::string(out_state_name(out_state_)) + " (" + std::string(effect_name(t->effect)) +
         ", ret " + std::to_string(err) + ")");
  }
  return err;
}

int Kernel::do_finalize_616() {
  // kernel/kexec_handover.c kho_finalize() (6.16/6.18).
  int err = root_->begin_sequential();
  if (!err) err = track_->preserve_order(fdt_page_ / PAGE_SIZE_4K, 0);
  if (!err) {
    in_notifier_ = true;
    for (auto& c : clients_) {
      err = c->fail_finalize ? c->fail_finalize : c->on_finalize(*this);
      if (err) {
        note("FINALIZE notifier '" + c->name() + "' failed: " + std::to_string(err));
        break;
      }
    }
    in_notifier_ = false;
  }
  std::optional<phys_addr_t> map;
  if (!err) {
    map = track_->serialize();
    if (!map) err = K_ENOMEM;
  }
  if (!err) err = root_->finish_sequential(*map);
  if (err) {
    log("KHO: Failed to convert KHO state tree: " + std::to_string(err));
    do_abort_616();
    return err;
  }
  serialized_map_ = *map;
  check_invariants();
  return 0;
}

int Kernel::do_abort_616() {
  // kho_abort(): the tracker and the serialized map go first, then the
  // ABORT notifiers run; their error is returned.
  track_->destroy();
  serialized_map_ = 0;
  subtrees_.clear();
  int err = 0;
  for (auto& c : clients_) {
    int e = c->fail_abort ? c->fail_abort : c->on_abort(*this);
    if (e && !err) err = e;
  }
  if (err) {
    log("KHO: Failed to abort KHO finalization: " + std::to_string(err));
    if (root_ && root_->built()) {
      finding("HAZARD_ABORT_DANGLING_MAP", "warning",
              "an ABORT notifier failed (" + std::to_string(err) +
                  "): KHO stays FINALIZED with an empty tracker while the root FDT still points at "
                  "the freed chunk list");
    }
  }
  return err;
}

int Kernel::do_refresh_619() {
  // kho_finalize() (6.19): re-serialize, free the old list, patch the map.
  std::optional<phys_addr_t> old = serialized_map_ ? std::optional<phys_addr_t>(serialized_map_) : std::nullopt;
  if (old) track_->free_serialized();
  auto map = track_->serialize();
  if (!map) return K_ENOMEM;
  serialized_map_ = *map;
  root_->set_memory_map(*map);
  return 0;
}

int Kernel::debugfs_finalize_write(std::uint64_t val) {
  if (!kho_enable_) return K_ENOENT;  // no /sys/kernel/debug/kho at all
  return run_event(val ? OutEvent::debugfs_write_1 : OutEvent::debugfs_write_0);
}

int Kernel::kho_finalize() {
  if (!kho_enable_) return K_EOPNOTSUPP;
  return run_event(OutEvent::finalize_call);
}

// --------------------------------------------------------- preservation ----

bool Kernel::overlaps_scratch(phys_addr_t a, std::uint64_t len) const {
  for (const auto& s : scratch_)
    if (overlap(a, len, s.addr, s.size)) return true;
  return false;
}

int Kernel::preserve_order_checked(std::uint64_t pfn, unsigned order) {
  if (!track_) return K_EOPNOTSUPP;
  if (cfg_.debug && era_.debug_scratch_check && overlaps_scratch(pfn * PAGE_SIZE_4K, block_bytes(order))) {
    log("KHO: WARNING: kho_scratch_overlap(" + hex(pfn * PAGE_SIZE_4K) + ")");
    return K_EINVAL;
  }
  return track_->preserve_order(pfn, order);
}

int Kernel::kho_preserve_folio(phys_addr_t phys, unsigned order) {
  if (phys % block_bytes(order) != 0) return K_EINVAL;  // not a folio
  return run_event(OutEvent::preserve, [&] { return preserve_order_checked(phys / PAGE_SIZE_4K, order); });
}

namespace {
int preserve_range(Kernel& k, MemTrack& t, std::uint64_t start, std::uint64_t nr,
                   const std::function<int(std::uint64_t, unsigned)>& one, bool hang_bug) {
  auto blocks = kho_split_range(start, nr);
  // INV_PRESERVED_SPLIT_EXACT (spec/kho.md): exact, aligned, bounded cover.
  if (!kho_split_exact(start, nr, blocks))
    k.finding("INV_PRESERVED_SPLIT_EXACT", "error", "the greedy split of pfn " + std::to_string(start) + " +" +
                                                        std::to_string(nr) + " is not an exact cover");
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    int err = one(blocks[i].phys / PAGE_SIZE_4K, blocks[i].order);
    if (err) {
      // __kho_unpreserve(start, failed): same split, clear each bit.
      for (std::size_t j = 0; j < i; ++j) {
        if (hang_bug && !t.is_preserved(blocks[j].phys / PAGE_SIZE_4K, blocks[j].order)) {
          k.finding("HAZARD_UNPRESERVE_HANG", "warning",
                    "6.16 __kho_unpreserve() meets a missing level and 'continue's without advancing: "
                    "the kernel loops forever");
          break;
        }
        t.unpreserve_order(blocks[j].phys / PAGE_SIZE_4K, blocks[j].order);
      }
      return err;
    }
  }
  return 0;
}
}  // namespace

int Kernel::kho_preserve_phys(phys_addr_t phys, std::uint64_t size) {
  if (era_.preserve_pages) return K_EOPNOTSUPP;  // replaced by kho_preserve_pages in 6.18
  return run_event(OutEvent::preserve, [&] {
    if (phys % PAGE_SIZE_4K || size % PAGE_SIZE_4K) return K_EINVAL;
    return preserve_range(*this, *track_, phys / PAGE_SIZE_4K, size / PAGE_SIZE_4K,
                          [&](std::uint64_t pfn, unsigned o) { return preserve_order_checked(pfn, o); },
                          era_.unpreserve_hangs);
  });
}

int Kernel::kho_preserve_pages(phys_addr_t phys, std::uint64_t nr) {
  if (!era_.preserve_pages) return K_EOPNOTSUPP;
  return run_event(OutEvent::preserve, [&] {
    if (phys % PAGE_SIZE_4K) return K_EINVAL;
    if (cfg_.debug && era_.debug_scratch_check && overlaps_scratch(phys, nr * PAGE_SIZE_4K)) {
      log("KHO: WARNING: kho_scratch_overlap(" + hex(phys) + ")");
      return K_EINVAL;
    }
    return preserve_range(*this, *track_, phys / PAGE_SIZE_4K, nr,
                          [&](std::uint64_t pfn, unsigned o) { return track_->preserve_order(pfn, o); },
                          false);
  });
}

int Kernel::kho_unpreserve_folio(phys_addr_t phys, unsigned order) {
  if (!era_.unpreserve_api) return K_EOPNOTSUPP;
  return run_event(OutEvent::unpreserve, [&] {
    track_->unpreserve_order(phys / PAGE_SIZE_4K, order);
    return 0;
  });
}

int Kernel::kho_unpreserve_pages(phys_addr_t phys, std::uint64_t nr) {
  if (!era_.unpreserve_api) return K_EOPNOTSUPP;
  return run_event(OutEvent::unpreserve, [&] {
    for (const auto& b : kho_split_range(phys / PAGE_SIZE_4K, nr))
      track_->unpreserve_order(b.phys / PAGE_SIZE_4K, b.order);
    return 0;
  });
}

std::int64_t Kernel::kho_alloc_preserve(std::uint64_t size) {
  if (!era_.alloc_preserve) return K_EOPNOTSUPP;
  if (size == 0) return K_EINVAL;
  unsigned order = 0;
  while ((PAGE_SIZE_4K << order) < size) ++order;  // get_order()
  if (order > MAX_PAGE_ORDER) return K_E2BIG;
  phys_addr_t p = alloc_pages(order);
  if (!p) return K_ENOMEM;
  int err = track_->preserve_order(p / PAGE_SIZE_4K, order);
  if (err) {
    free_pages(p, order);
    return err;
  }
  return static_cast<std::int64_t>(p);
}

int Kernel::kho_preserve_vmalloc(const std::vector<phys_addr_t>& blocks, unsigned order,
                                 std::uint16_t flags, KhoVmalloc* out) {
  if (!era_.vmalloc) return K_EOPNOTSUPP;
  if (flags & ~(KHO_VMALLOC_ALLOC | KHO_VMALLOC_HUGE_VMAP)) return K_EOPNOTSUPP;
  return run_event(OutEvent::preserve, [&]() -> int {
    auto chunks = kho_vmalloc_write(image(), buddy_, blocks, order, flags, out);
    if (!chunks) return K_ENOMEM;
    for (phys_addr_t c : *chunks) {
      int e = track_->preserve_order(c / PAGE_SIZE_4K, 0);
      if (e) return e;
    }
    for (phys_addr_t b : blocks) {
      int e = preserve_range(*this, *track_, b / PAGE_SIZE_4K, std::uint64_t{1} << order,
                             [&](std::uint64_t pfn, unsigned o) { return track_->preserve_order(pfn, o); },
                             false);
      if (e) return e;
    }
    return 0;
  });
}

int Kernel::kho_add_subtree(const std::string& name, phys_addr_t blob, std::uint64_t size) {
  if (!kho_enable_ || !root_) return K_EOPNOTSUPP;
  // 6.16/6.18: only from a FINALIZE notifier, which owns the serialization.
  if (!era_.root_fdt_at_boot && !in_notifier_) return K_EINVAL;
  int err = root_->add_subtree(name, blob, size);
  if (!err) subtrees_.push_back({name, blob, size});
  note("kho_add_subtree(\"" + name + "\", " + hex(blob) + (era_.blob_size ? ", " + std::to_string(size) : "") +
       ") = " + std::to_string(err));
  return err;
}

int Kernel::kho_remove_subtree(phys_addr_t blob) {
  if (!era_.root_fdt_at_boot || !root_) return K_EOPNOTSUPP;
  int err = root_->remove_subtree(blob);
  if (!err) {
    subtrees_.erase(std::remove_if(subtrees_.begin(), subtrees_.end(),
                                   [&](const Subtree& s) { return s.phys == blob; }),
                    subtrees_.end());
  }
  return err;
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

// ------------------------------------------------------------ restore ----

int Kernel::kho_retrieve_subtree(const std::string& name, phys_addr_t* phys, std::uint64_t* size) const {
  if (!kho_in_fdt_) return K_ENOENT;
  ImageFdt f(image(), kho_in_fdt_, PAGE_SIZE_4K);
  int off = fdt_subnode_offset(f.fdt(), 0, name.c_str());
  if (off < 0) return K_ENOENT;
  int len = 0;
  const auto* v = static_cast<const std::uint8_t*>(
      fdt_getprop(f.fdt(), off, std::string(era_.subtree_prop).c_str(), &len));
  if (!v || len != 8) return K_EINVAL;
  *phys = fdt::load_u64(v, fdt::Endian::little);
  if (era_.blob_size) {
    const auto* s = static_cast<const std::uint8_t*>(fdt_getprop(f.fdt(), off, "blob-size", &len));
    if (!s || len != 8) return K_EINVAL;
    if (size) *size = fdt::load_u64(s, fdt::Endian::little);
  }
  return 0;
}

bool Kernel::kho_restore_folio(phys_addr_t phys, unsigned* order_out) {
  std::uint64_t pfn = phys / PAGE_SIZE_4K;
  bool online = false;
  for (const auto& r : m_.config().ram)
    if (phys >= r.base && phys < r.base + r.size) online = true;
  if (!online) return false;
  auto it = page_private_.find(pfn);
  std::uint64_t priv = it == page_private_.end() ? 0 : it->second;
  unsigned order = static_cast<unsigned>(priv & 0xffffffffu);
  if (era_.page_magic) {
    // 6.18: WARN_ON_ONCE(magic != KHOP || order > MAX_PAGE_ORDER).
    if ((priv >> 32) != KHO_PAGE_MAGIC || order > MAX_PAGE_ORDER) {
      log("KHO: WARNING: kho_restore_page(" + hex(phys) + "): bad magic or order");
      return false;
    }
    page_private_.erase(pfn);  // restore once
    // INV_RESTORE_ONCE (spec/kho.md): a second restore of this page must fail.
    if (page_private_.count(pfn)) finding("INV_RESTORE_ONCE", "error", "page->private survives restore at " + hex(phys));
  } else {
    if (order > MAX_PAGE_ORDER) return false;
    if (it == page_private_.end()) {
      bool preserved = std::any_of(incoming_.begin(), incoming_.end(),
                                   [&](const PreservedBlock& b) { return b.phys == phys; });
      if (!preserved)
        finding("HAZARD_RESTORE_UNPRESERVED", "warning",
                "6.16 kho_restore_folio(" + hex(phys) + ") has no magic check: a page that was never "
                "preserved restores as an order-0 folio");
    }
  }
  if (order_out) *order_out = order;
  return true;
}

bool Kernel::kho_restore_pages(phys_addr_t phys, std::uint64_t nr) {
  for (const auto& b : kho_split_range(phys / PAGE_SIZE_4K, nr)) {
    unsigned o = 0;
    if (!kho_restore_folio(b.phys, &o) || o != b.order) return false;
  }
  return true;
}

// -------------------------------------------------------------- kexec ----

int Kernel::kexec_file_load() {
  return run_event(OutEvent::kexec_load);
}

int Kernel::do_kexec_load(bool with_kho) {
  LoadedImage li;
  const bool confine = kho_enable_;  // kho_locate_mem_hole(): KHO on, not a crash image
  auto place = [&](const std::string& name, std::uint64_t size, std::uint64_t align) -> bool {
    auto clash = [&](phys_addr_t a) {
      for (const auto& s : li.segments)
        if (overlap(a, size, s.mem, s.memsz)) return true;
      return false;
    };
    auto try_window = [&](phys_addr_t lo, phys_addr_t hi) -> std::optional<phys_addr_t> {
      if (hi < lo + size) return std::nullopt;
      for (phys_addr_t a = (hi - size) / align * align; a >= lo; a -= align) {  // top-down
        if (!clash(a)) return a;
        if (a < align) break;
      }
      return std::nullopt;
    };
    std::optional<phys_addr_t> at;
    if (confine) {
      for (const auto& s : scratch_) {
        if ((at = try_window(s.addr, s.addr + s.size))) break;
      }
    } else {
      for (auto it = m_.config().ram.rbegin(); it != m_.config().ram.rend() && !at; ++it)
        at = try_window(it->base, it->base + it->size);
    }
    if (!at) return false;
    li.segments.push_back({name, *at, size});
    return true;
  };
  if (with_kho) {
    // kho_fill_kimage(): the FDT page address plus a copy of kho_scratch[]
    // as its own segment (64K aligned, top-down).
    li.kho = true;
    li.kho_data.fdt_addr = fdt_page_;
    li.kho_data.fdt_size = PAGE_SIZE_4K;
    std::uint64_t sz = scratch_.size() * 16;
    if (!place("kho_scratch", sz, 64u << 10)) return K_EADDRNOTAVAIL;
    li.kho_data.scratch_addr = li.segments.back().mem;
    li.kho_data.scratch_size = sz;
  }
  if (!place("kernel", cfg_.kernel_image_size, 2u << 20)) return K_EADDRNOTAVAIL;
  li.kernel_segment = li.segments.back().mem;
  if (!place("boot_params", PAGE_SIZE_4K, PAGE_SIZE_4K)) return K_EADDRNOTAVAIL;
  li.handoff_segment = li.segments.back().mem;
  loaded_ = li;
  std::string line = std::string("kexec_file_load: ") + (with_kho ? "with" : "without") + " KHO data;";
  for (const auto& s : li.segments) line += " " + s.name + "@" + hex(s.mem);
  note(line);
  return 0;
}

std::optional<BootInfo> Kernel::kernel_kexec() {
  if (!loaded_) return std::nullopt;
  for (auto& c : clients_) {
    int e = c->on_reboot(*this);
    if (e) {
      note("reboot hook '" + c->name() + "' failed (" + std::to_string(e) + "): kexec aborted (-EAGAIN)");
      return std::nullopt;
    }
  }
  // Item 23: with revival in 6.19 the map must come from a finalize after
  // the last change (LUO's liveupdate_reboot() guarantees it; plain kexec -e
  // does not).
  if (loaded_->kho && era_.finalize == FinalizeModel::refresh && track_) {
    auto decoded = serialized_map_ ? kho_mem_deserialize(image(), era_.mem_map, serialized_map_, nullptr)
                                   : std::vector<PreservedBlock>{};
    std::sort(decoded.begin(), decoded.end());
    auto now = track_->blocks();
    std::sort(now.begin(), now.end());
    if (decoded != now)
      finding("INV_MAP_FRESH_AT_KEXEC", "error",
              "the serialized map (" + std::to_string(decoded.size()) + " blocks) is stale: " +
                  std::to_string(now.size()) + " blocks are preserved now; finalize again before kexec");
  }
  check_invariants();
  if (track_) outgoing_at_kexec_ = track_->blocks();
  out_blobs_at_kexec_ = debugfs_out_blobs();
  // Copy the segments into place (kimage relocation at reboot).
  const LoadedImage& li = *loaded_;
  BootInfo next;
  next.kexec = true;
  next.kernel_image = li.kernel_segment;
  if (li.kho) {
    image().write(li.kho_data.scratch_addr, encode_scratch_array(scratch_));
    auto rec = m_.config().arch == Arch::x86_64 ? encode_setup_data(li.kho_data) : encode_chosen(li.kho_data);
    image().write(li.handoff_segment, rec);
    next.handoff_record = li.handoff_segment;
    next.handoff_len = rec.size();
  }
  phase_ = BootPhase::kexeced;
  note("kernel_kexec: jumping to " + hex(li.kernel_segment));
  return next;
}

std::vector<Kernel::OutBlob> Kernel::debugfs_out_blobs() const {
  if (out_blobs_at_kexec_) return *out_blobs_at_kexec_;
  std::vector<OutBlob> out;
  auto root = debugfs_out_fdt();
  if (!root.empty()) out.push_back({"fdt", root, true});
  for (const auto& st : subtrees_) {
    auto hdr = image().read(st.phys, 8);
    bool is_fdt = fdt::load_u32(hdr.data(), fdt::Endian::big) == 0xd00dfeed;
    std::uint64_t len = is_fdt ? fdt::load_u32(hdr.data() + 4, fdt::Endian::big) : st.size;
    if (len == 0 || len > (1u << 20)) len = PAGE_SIZE_4K;
    out.push_back({st.name, image().read(st.phys, static_cast<std::size_t>(len)), is_fdt});
  }
  return out;
}

std::vector<std::uint8_t> Kernel::debugfs_out_fdt() const {
  if (out_blobs_at_kexec_) {
    for (const auto& b : *out_blobs_at_kexec_)
      if (b.name == "fdt") return b.bytes;
    return {};
  }
  if (!root_ || !root_->built()) return {};
  // 6.16/6.18 expose out/fdt only while finalized.
  if (!era_.root_fdt_at_boot && out_state_ != OutState::finalized) return {};
  return root_->blob();
}

// ---------------------------------------------------------- invariants ----

std::vector<Finding> Kernel::check_invariants() {
  // One finding per invariant: the first offending object, and how many more.
  std::vector<Finding> v;
  std::map<std::string, std::size_t> more;
  auto add = [&](const std::string& id, const std::string& level, const std::string& d) {
    for (const auto& f : v) {
      if (f.id == id) {
        ++more[id];
        return;
      }
    }
    v.push_back({id, level, d});
  };
  for (const auto& x : mb_.check_invariants()) add(x.id, "error", x.detail);
  // Transition invariants the memblock model checks on every call
  // (INV_MEMBLOCK_ADD_MONOTONE, INV_MEMBLOCK_SCRATCH_ONLY_ALLOC, ...).
  for (const auto& x : mb_.invariant_log()) add(x.id, "error", x.detail);

  // Scratch (kho-model.md §5 items 9-12).
  if (!scratch_.empty()) {
    if (!kho_boot() && scratch_.size() != static_cast<std::size_t>(m_.node_count()) + 2)
      add("INV_SCRATCH_COUNT", "error", std::to_string(scratch_.size()) + " areas for " +
                                            std::to_string(m_.node_count()) + " nodes");
    if (scratch_[0].size && scratch_[0].addr + scratch_[0].size - 1 > ARCH_LOW_ADDRESS_LIMIT)
      add("INV_SCRATCH_COUNT", "error", "lowmem area above ARCH_LOW_ADDRESS_LIMIT");
    for (std::size_t i = 0; i < scratch_.size(); ++i) {
      const auto& s = scratch_[i];
      if (s.addr % PAGEBLOCK_BYTES)
        add("INV_SCRATCH_ALIGNED", "error", "area " + std::to_string(i) + " at " + hex(s.addr) + " not pageblock aligned");
      for (std::size_t j = i + 1; j < scratch_.size(); ++j)
        if (overlap(s.addr, s.size, scratch_[j].addr, scratch_[j].size))
          add("INV_SCRATCH_ALIGNED", "error", "areas " + std::to_string(i) + " and " + std::to_string(j) + " overlap");
    }
    if (kho_boot() && index_ > 0) {
      const Kernel& prev = *m_.kernels()[static_cast<std::size_t>(index_ - 1)];
      if (prev.scratch() != scratch_)
        add("INV_SCRATCH_STABLE", "error", "scratch areas differ from the previous kernel's");
    }
  }
  if (phase_ == BootPhase::populated || phase_ == BootPhase::deserialized) {
    if (!mb_.kho_scratch_only()) add("INV_SCRATCH_ONLY_WINDOW", "error", "scratch-only is off during early KHO boot");
    for (const auto& s : scratch_) {
      if (!s.size) continue;
      bool covered = mb_.memblock_is_region_memory(s.addr, s.size);
      for (const auto& r : mb_.memory().regions)
        if (overlap(r.base, r.size, s.addr, s.size) && !(r.flags & MEMBLOCK_KHO_SCRATCH)) covered = false;
      if (!covered) add("INV_SCRATCH_IN_MEMORY", "error", "scratch " + hex(s.addr) + " is not KHO_SCRATCH memory");
    }
  } else if ((phase_ == BootPhase::buddy || phase_ == BootPhase::running) && mb_.kho_scratch_only()) {
    add("INV_SCRATCH_ONLY_WINDOW", "error", "scratch-only still on after memblock_free_all");
  }

  // Kexec segments (item 15).
  if (loaded_ && kho_enable_) {
    for (const auto& seg : loaded_->segments) {
      bool inside = false;
      for (const auto& s : scratch_)
        if (seg.mem >= s.addr && seg.mem + seg.memsz <= s.addr + s.size) inside = true;
      if (!inside) add("INV_KEXEC_SEGMENTS_IN_SCRATCH", "error", "segment " + seg.name + " at " + hex(seg.mem));
    }
  }

  // Preservation (items 16-22).
  if (track_) {
    auto blocks = track_->blocks();
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      const auto& b = blocks[i];
      if (b.phys % block_bytes(b.order))
        add("INV_PRESERVED_ALIGNED", "error", hex(b.phys) + " order " + std::to_string(b.order));
      if (overlaps_scratch(b.phys, block_bytes(b.order)))
        add("INV_SCRATCH_PRESERVED_DISJOINT", "error",
            "preserved " + hex(b.phys) + " order " + std::to_string(b.order) + " lies in scratch");
      if (b.order > MAX_PAGE_ORDER && era_.mem_map != MemMapFormat::radix)
        add("INV_PRESERVED_ORDER_RESTORABLE", "warning",
            "order-" + std::to_string(b.order) + " block at " + hex(b.phys) +
                " exceeds MAX_PAGE_ORDER: kho_restore_folio() refuses it");
    }
    // Item 20 (obs): nothing stops the same memory being preserved at two
    // orders; the next kernel reserves both.
    auto by_addr = blocks;
    std::sort(by_addr.begin(), by_addr.end());
    for (std::size_t i = 1; i < by_addr.size(); ++i) {
      const auto& p = by_addr[i - 1];
      if (p.phys + block_bytes(p.order) > by_addr[i].phys)
        add("INV_PRESERVED_DISJOINT", "warning",
            "blocks " + hex(p.phys) + " order " + std::to_string(p.order) + " and " + hex(by_addr[i].phys) +
                " order " + std::to_string(by_addr[i].order) + " overlap");
    }
    for (const auto& [a, len] : track_->metadata())
      if (overlaps_scratch(a, len)) add("INV_METADATA_OUTSIDE_SCRATCH", "error", "tracker metadata at " + hex(a));
    if (out_state_ == OutState::finalized && era_.finalize == FinalizeModel::notifier_abort && serialized_map_) {
      auto decoded = kho_mem_deserialize(image(), era_.mem_map, serialized_map_, nullptr);
      std::sort(decoded.begin(), decoded.end());
      auto expect = blocks;
      std::sort(expect.begin(), expect.end());
      if (decoded != expect)
        add("INV_FINALIZED_MAP_EXACT", "error", "the serialized map does not encode the preserved set");
    }
  }

  // Next-kernel ordering (items 24, 25, 27) against what was handed over.
  if (kho_in_scratch_ && index_ > 0) {
    const auto& handed = m_.handed_over();
    for (const auto& [a, len] : window_allocs_) {
      for (const auto& [b, d] : handed)
        if (overlap(a, len, b.phys, block_bytes(b.order)))
          add("INV_WINDOW_NO_ALLOC_OVER_PRESERVED", "error",
              "early allocation " + hex(a) + "+" + hex(len) + " overlaps preserved " + hex(b.phys));
    }
    if (phase_ != BootPhase::populated) {
      for (const auto& b : incoming_) {
        if (!mb_.memblock_is_region_reserved(b.phys, block_bytes(b.order)) && phase_ == BootPhase::deserialized)
          add("INV_KHO_PRESERVED_RESERVED", "error", "preserved " + hex(b.phys) + " is not reserved");
      }
      for (const auto& [s, e] : buddy_.free_ranges())
        for (const auto& b : incoming_)
          if (overlap(s, e - s, b.phys, block_bytes(b.order)))
            add("INV_BUDDY_DISJOINT_PRESERVED", "error", "buddy-free " + hex(s) + " overlaps preserved " + hex(b.phys));
    }
  }
  // Item 26: scratch never reaches the unmovable pool.
  for (const auto& [s, e] : buddy_.free_ranges())
    for (const auto& a : scratch_)
      if (overlap(s, e - s, a.addr, a.size))
        add("INV_CMA_BEFORE_BUDDY", "error", "scratch " + hex(a.addr) + " is in the unmovable free pool");

  for (auto& f : v) {
    if (more[f.id]) f.detail += " (and " + std::to_string(more[f.id]) + " more)";
    finding(f.id, f.level, f.detail);
  }
  return v;
}

}  // namespace khospec::model
