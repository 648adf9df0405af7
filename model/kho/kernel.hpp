// One kernel of a KHO chain, booted on a Machine: memblock, scratch, the
// outgoing KHO state (tracker, root FDT, finalize state machine), clients,
// kexec, and -- when it was kexec'd with a hand-over -- the incoming side
// (kho_populate, scratch-only boot, kho_memory_init, restore).
//
// Everything the next kernel learns comes from bytes in the Machine's
// PhysImage: the boot hand-off record, the root FDT, the memory map, the
// client blobs. Nothing is passed in C++ objects across a kexec: a Kernel
// holds a Board (the machine's configuration and its memory), not the
// Machine, so it cannot reach another kernel.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/kho/board.hpp"
#include "model/kho/buddy.hpp"
#include "model/kho/cmdline.hpp"
#include "model/kho/era.hpp"
#include "model/kho/handover.hpp"
#include "model/kho/mem_track.hpp"
#include "model/kho/state_machine.hpp"
#include "model/memblock/memblock.hpp"

namespace khospec::model {

class Kernel;
class LuoClient;
class MemfdTable;

inline constexpr std::uint64_t PAGE_SIZE_4K = 4096;
inline constexpr std::uint64_t PAGEBLOCK_BYTES = 2u << 20;  // CMA_MIN_ALIGNMENT_BYTES (x86-64)
inline constexpr unsigned MAX_PAGE_ORDER = 10;
inline constexpr phys_addr_t ARCH_LOW_ADDRESS_LIMIT = 0xffffffffULL;  // x86-64
inline constexpr std::uint32_t KHO_PAGE_MAGIC = 0x4b484f50;           // "KHOP"

// Kernel-level errno values used by the KHO model.
inline constexpr int K_EPERM = -1, K_ENOENT = -2, K_EIO = -5, K_E2BIG = -7, K_EBADF = -9, K_EAGAIN = -11,
                     K_ENOMEM = -12, K_EFAULT = -14, K_EBUSY = -16, K_EEXIST = -17, K_EINVAL = -22,
                     K_ENOTTY = -25, K_EFBIG = -27, K_ENOSPC = -28, K_EOPNOTSUPP = -95, K_EADDRNOTAVAIL = -99;

enum class BootPhase { cold, populated, deserialized, buddy, running, kexeced, failed };
std::string_view boot_phase_name(BootPhase p);

// A named invariant violation or known hazard, reported, never fatal.
struct Finding {
  std::string id;      // INV_* or HAZARD_*
  std::string level;   // "error" (invariant violated) or "warning" (known hazard)
  std::string detail;
};

// One check pass: one finding per ID (the first offender's detail, then
// "(and N more)"), recorded on a kernel by report().
class FindingBatch {
 public:
  void add(const std::string& id, const std::string& level, const std::string& detail);
  // The findings, each detail followed by "(and N more)" where there were.
  std::vector<Finding> take() const;
  // take(), recorded as k's findings.
  std::vector<Finding> report(Kernel& k) const;

 private:
  std::vector<Finding> v_;
  std::map<std::string, std::size_t> more_;
};

struct TimelineEntry {
  std::string what;
};

// A KHO client (kho_add_subtree user) as a model component.
class KhoClient {
 public:
  virtual ~KhoClient() = default;
  virtual std::string name() const = 0;  // subtree name ("memblock", "kho_test", ...)
  // Early boot (memblock time): reserve_mem allocation or revival.
  virtual void early_boot(Kernel&) {}
  // The client's initcall: restore incoming state, then set up the outgoing
  // one (6.19+: add its subtree now; 6.16/6.18: register a notifier).
  virtual void init(Kernel&) {}
  // 6.16/6.18 KEXEC_KHO_FINALIZE / KEXEC_KHO_ABORT notifiers (errno).
  virtual int on_finalize(Kernel&) { return 0; }
  virtual int on_abort(Kernel&) { return 0; }
  // Right before kexec (LUO's liveupdate_reboot()).
  virtual int on_reboot(Kernel&) { return 0; }
  // Failure injection for notifier error paths.
  int fail_finalize = 0;
  int fail_abort = 0;
};

struct KernelConfig {
  KhoEra era = KhoEra::v6_16;
  std::string cmdline = "kho=on";
  // uname -r ("7.2.0", "6.19.3"): names the release the kernel runs when it
  // is one of the era's (kernel_release()); "" or anything else runs the
  // era's model release. kexec-metadata records it ("" records the model
  // release's uname).
  std::string release;
  bool kho_default = false;        // CONFIG_KEXEC_HANDOVER_ENABLE_DEFAULT
  bool debug = false;              // CONFIG_KEXEC_HANDOVER_DEBUG (6.18+)
  bool test_kho = false;           // CONFIG_TEST_KEXEC_HANDOVER
  std::uint64_t test_kho_max_mem = 8u << 20;
  std::uint64_t seed = 1;          // test_kho's random orders and contents
  // Boot footprint (RSRV_KERN), calibrated on the captured 6.16 hand-overs:
  // a tinyconfig image of 8 MiB (iomem "Kernel code".."Kernel bss") and
  // 13.5 MiB of other early allocations (plus the 32 MiB memmap and a 4 MiB
  // reserve_mem) give the captured 116 MiB lowmem scratch area at 200% on a
  // 2 GiB guest.
  std::uint64_t kernel_image_size = 8u << 20;
  std::uint64_t boot_alloc_bytes = 0xd80000;
  // Failure injection for INV_KHO_PRESERVED_RESERVED (docs/kernel-behaviour.md
  // §6): on a KHO boot, early allocations use up every free page of scratch
  // before deserialization (as a boot with heavy early allocations would).
  bool exhaust_scratch = false;
  // Parity with a capture: place reserve_mem regions where that kernel did
  // (name -> physical address) instead of letting the model allocate them.
  std::map<std::string, phys_addr_t> reserve_mem_at;  // early memblock allocations besides the memmap
  // Client formats this kernel's build lacks although its release has them
  // (labels: "memfd-v2", "luo-v5"): a handler configured out
  // (CONFIG_LIVEUPDATE_MEMFD=n) or a compatible bumped in its source. It then
  // neither writes nor reads them (preflight: B known from its image).
  std::set<std::string> absent_formats;
};

// A kernel that runs `name`, an era or a release ("kho-v4", "7.2", "6.19.3"):
// era and release set (an era alone runs its model release); nullopt for a
// name the registry does not know. What Machine::boot_cold()/kexec() take
// for "boot release 7.0".
std::optional<KernelConfig> kernel_config_for(std::string_view name, std::string cmdline = "kho=on");

// The next kernel's view of how it was started.
struct BootInfo {
  bool kexec = false;               // false: cold boot from firmware
  phys_addr_t kernel_image = 0;     // where the image sits (kexec segment or firmware load address)
  phys_addr_t handoff_record = 0;   // x86 setup_data / arm64 DTB in the image, 0 if none
  std::uint64_t handoff_len = 0;
};

struct KexecSegment {
  std::string name;
  phys_addr_t mem = 0;
  std::uint64_t memsz = 0;
};

struct LoadedImage {
  std::vector<KexecSegment> segments;
  bool kho = false;                 // KHO data attached (image->kho.fdt / .scratch)
  KhoBootData kho_data;
  phys_addr_t kernel_segment = 0;
  phys_addr_t handoff_segment = 0;
  std::uint64_t handoff_len = 0;
};

class Kernel {
 public:
  Kernel(Board board, KernelConfig cfg, BootInfo boot, int index);
  ~Kernel();

  // Boot to the running state: cmdline, memblock, kho_populate (when handed
  // over), early allocations, kho_memory_init, memblock_free_all, kho_init,
  // client initcalls.
  void boot();

  // ---- outgoing KHO API (kernel names) --------------------------------
  int kho_preserve_folio(phys_addr_t phys, unsigned order);
  int kho_preserve_phys(phys_addr_t phys, std::uint64_t size);    // 6.16
  int kho_preserve_pages(phys_addr_t phys, std::uint64_t nr);     // 6.18+
  int kho_unpreserve_folio(phys_addr_t phys, unsigned order);     // 6.19+
  int kho_unpreserve_pages(phys_addr_t phys, std::uint64_t nr);   // 6.19+
  // kho_alloc_preserve(size) (6.19+): returns phys or a negative errno.
  std::int64_t kho_alloc_preserve(std::uint64_t size);
  // kho_unpreserve_free() (6.19+): the folio kho_alloc_preserve(size) gave.
  void kho_unpreserve_free(phys_addr_t phys, std::uint64_t size);
  int kho_preserve_vmalloc(const std::vector<phys_addr_t>& blocks, unsigned order,
                           std::uint16_t flags, KhoVmalloc* out);  // 6.18+
  int kho_add_subtree(const std::string& name, phys_addr_t blob, std::uint64_t size);
  int kho_remove_subtree(phys_addr_t blob);

  int debugfs_finalize_write(std::uint64_t val);  // echo VAL > out/finalize
  int kho_finalize();                              // 6.19 in-kernel API
  int kexec_file_load();                           // kexec -s -l
  // kexec -e: reboot hooks, copy segments into memory; returns the next
  // kernel's BootInfo (or nullopt when no image is loaded).
  std::optional<BootInfo> kernel_kexec();

  // ---- incoming side -------------------------------------------------
  // kho_retrieve_subtree(): 0, -ENOENT, -EINVAL; `size` when blob-size exists.
  int kho_retrieve_subtree(const std::string& name, phys_addr_t* phys, std::uint64_t* size) const;
  // kho_restore_folio()/kho_restore_pages(): true on success.
  bool kho_restore_folio(phys_addr_t phys, unsigned* order_out);
  bool kho_restore_pages(phys_addr_t phys, std::uint64_t nr);
  // kho_restore_free() (6.19+): restore the folio at phys and free it.
  bool kho_restore_free(phys_addr_t phys);
  // kho_is_preserved() (7.1, the LUO FDT reader): every page of [phys,
  // phys + nr pages) lies in a block the previous kernel preserved.
  bool kho_is_preserved(phys_addr_t phys, std::uint64_t nr) const;

  // ---- userspace (docs/model-kho.md "LUO and memfd") -------------------
  // Each returns an fd (>= 3) or a negative errno as the syscall/ioctl
  // would. /dev/liveupdate exists only with liveupdate=on and KHO on in a
  // release with LUO (6.19+); without it the luo_* calls return -ENOENT.
  int memfd_create(bool allow_sealing = false);
  int memfd_write(int fd, std::uint64_t offset, std::span<const std::uint8_t> bytes);
  int memfd_truncate(int fd, std::uint64_t size);
  int memfd_seek(int fd, std::uint64_t pos);
  int memfd_add_seals(int fd, std::uint32_t seals);
  std::optional<std::vector<std::uint8_t>> memfd_read(int fd, std::uint64_t offset, std::uint64_t len) const;
  int luo_create_session(const std::string& name);
  int luo_preserve_fd(int session_fd, int fd, std::uint64_t token);
  int luo_retrieve_session(const std::string& name);
  int luo_retrieve_fd(int session_fd, std::uint64_t token);
  int luo_finish(int session_fd);
  int luo_close(int session_fd);
  MemfdTable& memfds() { return *memfds_; }
  const MemfdTable& memfds() const { return *memfds_; }
  // The LUO client of a release with LUO (installed whether or not
  // liveupdate=on), else nullptr.
  LuoClient* luo();
  const LuoClient* luo() const;
  int alloc_fd() { return next_fd_++; }
  // ---- allocation helpers for clients --------------------------------
  phys_addr_t alloc_pages(unsigned order);   // unmovable, zeroed (folio_alloc / alloc_pages)
  void free_pages(phys_addr_t phys, unsigned order);
  std::optional<phys_addr_t> write_sub_fdt(const std::vector<std::uint8_t>& fdt_blob);

  // ---- observation -----------------------------------------------------
  const EraTraits& era() const { return era_; }
  // The release this kernel runs (kernel_release()): client formats, debugfs
  // names and parameters that differ inside an era come from here.
  const registry::Release& release() const { return release_; }
  // Does this kernel write (and read) the client format `label`
  // ("luo-v5", "memfd-v2", "kexec-metadata version 1")?
  bool writes(std::string_view label) const;
  // The format of `family` ("kho_test", "luo") this kernel writes and reads
  // (luo: the main blob, not luo-flb), or nullptr.
  const registry::ClientFormat* format_of(std::string_view family) const;
  // uname -r: KernelConfig::release, or the model release's.
  std::string uname() const;
  const KernelConfig& config() const { return cfg_; }
  int index() const { return index_; }
  const Board& board() const { return board_; }
  PhysImage& image();
  const PhysImage& image() const;
  Memblock& memblock() { return mb_; }
  const Memblock& memblock() const { return mb_; }
  BuddyAllocator& buddy() { return buddy_; }
  bool kho_enabled() const { return kho_enable_; }
  bool kho_boot() const { return kho_in_fdt_ != 0; }  // is_kho_boot()
  phys_addr_t kho_in_fdt() const { return kho_in_fdt_; }
  OutState out_state() const { return out_state_; }
  BootPhase phase() const { return phase_; }
  const std::vector<ScratchArea>& scratch() const { return scratch_; }
  phys_addr_t scratch_array_phys() const { return scratch_array_phys_; }
  const KhoCmdline& cmdline() const { return cmd_; }
  MemTrack* tracker() { return track_.get(); }
  const MemTrack* tracker() const { return track_.get(); }
  RootFdt* root_fdt() { return root_.get(); }
  // Blocks the previous kernel preserved, as this kernel decoded them.
  const std::vector<PreservedBlock>& incoming_blocks() const { return incoming_; }
  // The preserved set at kexec time (the tracker's pages may be reused by
  // the next kernel afterwards, so later reads of the tracker are stale).
  const std::vector<PreservedBlock>& outgoing_at_kexec() const { return outgoing_at_kexec_; }
  const std::map<std::uint64_t, std::uint64_t>& page_private() const { return page_private_; }
  // Early memblock allocations made while scratch-only was on, [addr, len).
  const std::vector<std::pair<phys_addr_t, std::uint64_t>>& window_allocs() const { return window_allocs_; }
  std::optional<LoadedImage> loaded() const { return loaded_; }
  const std::vector<Finding>& findings() const { return findings_; }
  const std::vector<TimelineEntry>& timeline() const { return timeline_; }
  const std::vector<std::string>& dmesg() const { return dmesg_; }
  std::vector<std::unique_ptr<KhoClient>>& clients() { return clients_; }
  KhoClient* client(const std::string& name);

  // debugfs out/ blobs: the root FDT (as fdt_totalsize bytes) and the
  // sub_fdts registered this kernel.
  std::vector<std::uint8_t> debugfs_out_fdt() const;
  struct Subtree { std::string name; phys_addr_t phys; std::uint64_t size; };
  const std::vector<Subtree>& subtrees() const { return subtrees_; }
  // debugfs out/ as a user would copy it: the root FDT and every sub-blob
  // (FDT: fdt_totalsize bytes; other blobs: blob-size bytes). Taken live, or
  // as it was at kexec time once this kernel has kexec'd (the next kernel
  // reuses the pages).
  struct OutBlob { std::string name; std::vector<std::uint8_t> bytes; bool fdt; };
  std::vector<OutBlob> debugfs_out_blobs() const;
  // debugfs out/ text files as the release names them: scratch_phys and
  // scratch_len (bootmem_phys, bootmem_len from 7.4), one hex value a line.
  struct TextFile { std::string name; std::string text; };
  std::vector<TextFile> debugfs_out_files() const;
  // pfn of each block this kernel restored -> digest of the block when it
  // was restored (the owner may change it afterwards); see Machine::check_handover().
  const std::map<std::uint64_t, std::uint64_t>& restored_digests() const { return restored_digest_; }

  // The invariants of spec/kho.md that this kernel can check on its own
  // state; violations are appended to findings() (and returned). Those that
  // compare two kernels are Machine::check_handover()'s.
  std::vector<Finding> check_invariants();

  void log(std::string line);       // dmesg "KHO: ..." lines
  void note(std::string what);      // timeline
  void finding(std::string id, std::string level, std::string detail);

 private:
  // Test-only hook (model/kho/kernel_test_access.hpp): tests plant
  // violations in the private state to show each check fires.
  friend struct KernelTestAccess;
  int run_event(OutEvent ev, const std::function<int()>& mutate = {});
  int do_finalize_616();
  int do_abort_616();
  int do_refresh_619();
  int do_kexec_load(bool with_kho);
  int preserve_order_checked(std::uint64_t pfn, unsigned order);
  bool overlaps_scratch(phys_addr_t a, std::uint64_t len) const;

  // boot steps
  void setup_memblock();
  void kho_populate(const KhoBootData& d);
  void early_allocations();
  void kho_memory_init();
  void kho_reserve_scratch();
  void kho_release_scratch();
  void kho_mem_deserialize_in();
  void memblock_free_all_step();
  void kho_init();
  void record_window_alloc(phys_addr_t a, std::uint64_t len);

  Board board_;
  KernelConfig cfg_;
  const EraTraits& era_;
  const registry::Release& release_;
  BootInfo boot_;
  int index_;
  KhoCmdline cmd_;
  Memblock mb_;
  BuddyAllocator buddy_;
  bool kho_enable_ = false;
  BootPhase phase_ = BootPhase::cold;
  OutState out_state_ = OutState::disabled;
  std::vector<ScratchArea> scratch_;
  phys_addr_t scratch_array_phys_ = 0;
  phys_addr_t kho_in_fdt_ = 0;
  phys_addr_t kho_in_scratch_ = 0;
  std::vector<PreservedBlock> incoming_;
  std::vector<PreservedBlock> outgoing_at_kexec_;
  std::optional<std::vector<OutBlob>> out_blobs_at_kexec_;
  std::map<std::uint64_t, std::uint64_t> page_private_;  // pfn -> page->private
  std::set<std::uint64_t> restored_;                     // pfns kho_restore_folio() succeeded on
  std::map<std::uint64_t, std::uint64_t> restored_digest_;  // pfn -> digest at restore
  std::set<std::uint64_t> cma_pageblocks_;              // pfn of MIGRATE_CMA pageblocks
  std::vector<std::pair<phys_addr_t, std::uint64_t>> window_allocs_;  // allocations while scratch-only
  std::unique_ptr<MemTrack> track_;
  std::unique_ptr<RootFdt> root_;
  phys_addr_t fdt_page_ = 0;
  phys_addr_t serialized_map_ = 0;       // what preserved-memory-map says
  std::vector<Subtree> subtrees_;
  std::optional<LoadedImage> loaded_;
  std::vector<std::unique_ptr<KhoClient>> clients_;
  std::vector<Finding> findings_;
  std::vector<TimelineEntry> timeline_;
  std::vector<std::string> dmesg_;
  bool in_notifier_ = false;
  std::unique_ptr<MemfdTable> memfds_;
  int next_fd_ = 3;
};

// Checks as functions of the spec's state rather than of a Kernel, so that a
// test can hand them an input no kernel state can hold. Kernel::
// check_invariants() and kho_preserve_phys()/kho_preserve_pages() run them on
// the real state.
//
// Items 16-18 and 20 on a preserved set P against scratch areas S. The
// trackers cannot hold a misaligned block (their encodings keep pfn >> order),
// so INV_PRESERVED_ALIGNED only fires on a planted P.
void check_preserved_set(FindingBatch& out, const std::vector<PreservedBlock>& blocks,
                         const std::vector<ScratchArea>& scratch, const EraTraits& era);
// INV_PRESERVED_SPLIT_EXACT on one split of [start_pfn, start_pfn + nr_pages):
// a finding unless `blocks` is an exact, aligned, bounded cover.
std::optional<Finding> check_preserve_split(std::uint64_t start_pfn, std::uint64_t nr_pages,
                                            const std::vector<PreservedBlock>& blocks);

}  // namespace khospec::model
