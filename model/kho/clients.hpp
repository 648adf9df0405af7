// KHO clients as model components: memblock reserve_mem (memblock-v1 /
// reserve-mem-v1), lib/test_kho.c (kho-test-v1, notifier and vmalloc forms),
// kexec-metadata (7.1+); LUO is luo.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/kho/kernel.hpp"

namespace khospec::model {

// Adds the clients a kernel with this config and release has (the
// release's client formats), in initcall order (fs: kexec-metadata, device:
// test_kho, late: memblock, LUO).
void install_clients(Kernel& k);
// The kernel's client of type T (ReserveMemClient, TestKhoClient, ...), or nullptr.
template <class T>
T* client_of(Kernel& k) {
  for (auto& c : k.clients())
    if (auto* t = dynamic_cast<T*>(c.get())) return t;
  return nullptr;
}

// mm/memblock.c reserve_mem= with KHO (reserve_mem_kho_*), all eras.
class ReserveMemClient : public KhoClient {
 public:
  struct Region {
    std::string name;
    phys_addr_t start = 0;
    std::uint64_t size = 0;
    std::uint64_t align = 0;
    bool revived = false;
  };
  std::string name() const override { return "memblock"; }
  void early_boot(Kernel& k) override;
  void init(Kernel& k) override;
  int on_finalize(Kernel& k) override;
  const std::vector<Region>& regions() const { return regions_; }
  phys_addr_t fdt_page() const { return fdt_; }

 private:
  bool revive(Kernel& k, const ReserveMemParam& p, Region& out);
  int preserve_all(Kernel& k);
  std::vector<std::uint8_t> build_fdt() const;
  std::vector<Region> regions_;
  phys_addr_t fdt_ = 0;
};

// lib/test_kho.c: random-order folios with random contents and a checksum;
// after kexec the next kernel restores them and verifies the checksum.
class TestKhoClient : public KhoClient {
 public:
  std::string name() const override { return "kho_test"; }
  void init(Kernel& k) override;
  int on_finalize(Kernel& k) override;
  bool restored_ok() const { return restored_ok_; }
  std::size_t folio_count() const { return folios_.size(); }
  std::uint64_t folio_bytes() const;
  phys_addr_t fdt() const { return fdt_; }  // the kho-test-v1 FDT it wrote or read
  // INV_FOLIO_INFO_ENTRY_EXACT on the saved FDT (run when it is written);
  // the violations, also recorded as k's findings.
  std::vector<Finding> check_folios_info(Kernel& k) const;
  static bool vmalloc_form(const Kernel& k);  // folios_info as struct kho_vmalloc
  static std::optional<std::vector<std::uint64_t>> read_folios_info(const PhysImage& image, phys_addr_t fdt,
                                                                    bool vmalloc, std::string* why);

 private:
  void save(Kernel& k);
  void restore(Kernel& k);
  std::vector<PreservedBlock> folios_;
  phys_addr_t fdt_ = 0;
  unsigned fdt_order_ = 0;
  std::uint32_t csum_ = 0;
  bool saved_ = false;       // the save path ran (only then is the notifier registered)
  bool restored_ok_ = false;
};

// 7.1+ (76aa46b9e404): struct kho_kexec_metadata { u32 version; char previous_release[65];
// u32 kexec_count; } __packed (73 bytes), always registered by kho_init().
class KexecMetadataClient : public KhoClient {
 public:
  std::string name() const override { return "kexec-metadata"; }
  void init(Kernel& k) override;
  std::uint32_t count() const { return count_; }

 private:
  std::uint32_t count_ = 0;
};

// csum_partial()-style 32-bit ones'-complement sum over little-endian words.
std::uint32_t kho_csum(const std::vector<std::uint8_t>& bytes, std::uint32_t sum);

}  // namespace khospec::model
