#include "model/kho/handover.hpp"

#include <cstring>

extern "C" {
#include <libfdt.h>
}

#include "fdt/decode.hpp"

namespace khospec::model {

namespace {
constexpr int kENOMEM = -12, kEEXIST = -17, kENOENT = -2, kEINVAL = -22;
using fdt::Endian;
}  // namespace

std::vector<std::uint8_t> encode_setup_data(const KhoBootData& d, phys_addr_t next) {
  std::vector<std::uint8_t> b(48, 0);
  fdt::store_u64(b.data(), next, Endian::little);
  fdt::store_u32(b.data() + 8, SETUP_KEXEC_KHO, Endian::little);
  fdt::store_u32(b.data() + 12, 32, Endian::little);
  fdt::store_u64(b.data() + 16, d.fdt_addr, Endian::little);
  fdt::store_u64(b.data() + 24, d.fdt_size, Endian::little);
  fdt::store_u64(b.data() + 32, d.scratch_addr, Endian::little);
  fdt::store_u64(b.data() + 40, d.scratch_size, Endian::little);
  return b;
}

std::optional<KhoBootData> decode_setup_data(std::span<const std::uint8_t> b) {
  // arch/x86/kernel/setup.c add_kho(): maps len bytes of kho_data.
  if (b.size() < 16) return std::nullopt;
  if (fdt::load_u32(b.data() + 8, Endian::little) != SETUP_KEXEC_KHO) return std::nullopt;
  std::uint32_t len = fdt::load_u32(b.data() + 12, Endian::little);
  if (len < 32 || b.size() < 16 + std::size_t{32}) return std::nullopt;
  KhoBootData d;
  d.fdt_addr = fdt::load_u64(b.data() + 16, Endian::little);
  d.fdt_size = fdt::load_u64(b.data() + 24, Endian::little);
  d.scratch_addr = fdt::load_u64(b.data() + 32, Endian::little);
  d.scratch_size = fdt::load_u64(b.data() + 40, Endian::little);
  return d;
}

std::vector<std::uint8_t> encode_chosen(const KhoBootData& d) {
  fdt::Builder b(4096, Endian::big);
  b.begin_node("").prop_u32("#address-cells", 2).prop_u32("#size-cells", 2);
  b.begin_node("chosen");
  // fdt_appendprop_addrrange(): big-endian cells, root #address/#size-cells.
  b.prop_u64_array("linux,kho-fdt", {d.fdt_addr, d.fdt_size});
  b.prop_u64_array("linux,kho-scratch", {d.scratch_addr, d.scratch_size});
  b.end_node().end_node();
  return b.finish();
}

std::optional<KhoBootData> decode_chosen(std::span<const std::uint8_t> dtb) {
  std::vector<std::uint64_t> buf((dtb.size() + 7) / 8 + 1, 0);
  std::memcpy(buf.data(), dtb.data(), dtb.size());
  const void* f = buf.data();
  if (dtb.size() < 40 || fdt_check_full(f, dtb.size()) != 0) return std::nullopt;
  int chosen = fdt_path_offset(f, "/chosen");
  if (chosen < 0) return std::nullopt;
  int len_fdt = 0, len_scr = 0;
  const auto* pf = static_cast<const std::uint8_t*>(fdt_getprop(f, chosen, "linux,kho-fdt", &len_fdt));
  const auto* ps = static_cast<const std::uint8_t*>(fdt_getprop(f, chosen, "linux,kho-scratch", &len_scr));
  // early_init_dt_check_kho(): each length must be (addr_cells + size_cells) * 4.
  if (!pf || !ps || len_fdt != 16 || len_scr != 16) return std::nullopt;
  KhoBootData d;
  d.fdt_addr = fdt::load_u64(pf, Endian::big);
  d.fdt_size = fdt::load_u64(pf + 8, Endian::big);
  d.scratch_addr = fdt::load_u64(ps, Endian::big);
  d.scratch_size = fdt::load_u64(ps + 8, Endian::big);
  return d;
}

std::vector<std::uint8_t> encode_scratch_array(const std::vector<ScratchArea>& s) {
  std::vector<std::uint8_t> b(s.size() * 16);
  for (std::size_t i = 0; i < s.size(); ++i) {
    fdt::store_u64(b.data() + 16 * i, s[i].addr, Endian::little);
    fdt::store_u64(b.data() + 16 * i + 8, s[i].size, Endian::little);
  }
  return b;
}

std::vector<ScratchArea> decode_scratch_array(std::span<const std::uint8_t> b) {
  std::vector<ScratchArea> s(b.size() / 16);  // kho_populate(): scratch_len / sizeof(*kho_scratch)
  for (std::size_t i = 0; i < s.size(); ++i) {
    s[i].addr = fdt::load_u64(b.data() + 16 * i, Endian::little);
    s[i].size = fdt::load_u64(b.data() + 16 * i + 8, Endian::little);
  }
  return s;
}

RootFdt::RootFdt(const EraTraits& era, PhysImage& image, phys_addr_t page)
    : era_(era), image_(image), page_(page), buf_(PhysImage::kPageSize / 8, 0) {}

void RootFdt::flush() {
  image_.write(page_, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(buf_.data()),
                                                    PhysImage::kPageSize));
}

std::vector<std::uint8_t> RootFdt::blob() const {
  if (!built_) return {};
  const auto* p = reinterpret_cast<const std::uint8_t*>(buf_.data());
  return std::vector<std::uint8_t>(p, p + fdt_totalsize(buf_.data()));
}

int RootFdt::begin_sequential() {
  // kho_finalize() (6.16): fdt_create(fdt, PAGE_SIZE) ... placeholder.
  seq_.emplace(PhysImage::kPageSize, Endian::little, /*grow=*/false);
  seq_->begin_node("").prop_string("compatible", era_.compatible).prop_u64("preserved-memory-map", 0);
  built_ = false;
  return seq_->error();
}

int RootFdt::add_subtree(std::string_view name, phys_addr_t blob, std::uint64_t size) {
  if (!era_.root_fdt_at_boot) {
    if (!seq_) return kEINVAL;
    // kho_add_subtree(ser, name, fdt) (6.16): begin_node, fdt property, end_node.
    seq_->begin_node(name).prop_u64(era_.subtree_prop, blob).end_node();
    return seq_->error();
  }
  void* f = buf_.data();
  if (fdt_open_into(f, f, static_cast<int>(PhysImage::kPageSize)) < 0) return kENOMEM;
  std::string n(name);
  int off = fdt_add_subnode(f, 0, n.c_str());
  if (off == -FDT_ERR_EXISTS) return kEEXIST;
  if (off < 0) return kENOMEM;
  std::uint8_t v[8];
  fdt::store_u64(v, blob, Endian::little);
  int err = fdt_setprop(f, off, std::string(era_.subtree_prop).c_str(), v, 8);
  if (!err && era_.blob_size) {
    fdt::store_u64(v, size, Endian::little);
    err = fdt_setprop(f, off, "blob-size", v, 8);
  }
  if (err) {
    // Do not leave a half-created node behind (the 2026 fix deletes it).
    fdt_del_node(f, off);
    fdt_pack(f);
    flush();
    return kENOMEM;
  }
  fdt_pack(f);
  flush();
  return 0;
}

int RootFdt::remove_subtree(phys_addr_t blob) {
  if (!era_.root_fdt_at_boot || !built_) return kENOENT;
  void* f = buf_.data();
  if (fdt_open_into(f, f, static_cast<int>(PhysImage::kPageSize)) < 0) return kENOMEM;
  int child = 0;
  fdt_for_each_subnode(child, f, 0) {
    int len = 0;
    const auto* v = static_cast<const std::uint8_t*>(
        fdt_getprop(f, child, std::string(era_.subtree_prop).c_str(), &len));
    if (v && len == 8 && fdt::load_u64(v, Endian::little) == blob) {
      fdt_del_node(f, child);
      fdt_pack(f);
      flush();
      return 0;
    }
  }
  return kENOENT;
}

int RootFdt::create(phys_addr_t map) {
  fdt::Builder b(PhysImage::kPageSize, Endian::little, /*grow=*/false);
  b.begin_node("").prop_string("compatible", era_.compatible).prop_u64("preserved-memory-map", map);
  b.end_node();
  auto bytes = b.finish();
  if (b.error()) return kENOMEM;
  std::fill(buf_.begin(), buf_.end(), 0);
  std::memcpy(buf_.data(), bytes.data(), bytes.size());
  built_ = true;
  flush();
  return 0;
}

int RootFdt::set_memory_map(phys_addr_t map) {
  if (!built_) return kENOENT;
  int len = 0;
  auto* p = static_cast<std::uint8_t*>(fdt_getprop_w(buf_.data(), 0, "preserved-memory-map", &len));
  if (!p || len != 8) return kEINVAL;
  fdt::store_u64(p, map, Endian::little);  // put_unaligned(), in place
  flush();
  return 0;
}

int RootFdt::finish_sequential(phys_addr_t map) {
  if (!seq_) return kEINVAL;
  seq_->end_node();
  auto bytes = seq_->finish();
  int err = seq_->error();
  seq_.reset();
  if (err) return err;
  std::fill(buf_.begin(), buf_.end(), 0);
  std::memcpy(buf_.data(), bytes.data(), bytes.size());
  built_ = true;
  return set_memory_map(map);  // fill the placeholder
}

}  // namespace khospec::model
