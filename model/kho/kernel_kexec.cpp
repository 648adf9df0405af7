// kexec: kexec_file_load() (segment placement, KHO data attached or not),
// kernel_kexec() (reboot hooks, the hand-off record written into the image)
// and the debugfs out/ view that survives it.
#include "model/kho/kernel.hpp"

#include <algorithm>

#include "core/parse.hpp"
#include "fdt/decode.hpp"
#include "model/kho/kernel_internal.hpp"

namespace khospec::model {

using namespace kernel_detail;

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
      for (auto it = board_.config().ram.rbegin(); it != board_.config().ram.rend() && !at; ++it)
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
    auto rec = board_.config().arch == Arch::x86_64 ? encode_setup_data(li.kho_data) : encode_chosen(li.kho_data);
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

std::vector<Kernel::TextFile> Kernel::debugfs_out_files() const {
  // kho_out_debugfs_init(): one address (size) per scratch area; 7.4-rc1
  // renames the files to bootmem_* ("Rename 'KHO scratch' to 'KHO boot memory'").
  std::string phys, lens;
  for (const auto& a : scratch_) phys += hex(a.addr) + "\n", lens += hex(a.size) + "\n";
  return {{std::string(release_.debugfs.scratch_phys), phys}, {std::string(release_.debugfs.scratch_len), lens}};
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

}  // namespace khospec::model
