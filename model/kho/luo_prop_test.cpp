// Property test of LUO and memfd across kexec (RapidCheck; seed fixed and
// printed, RC_PARAMS overrides it).
//
// Random release with LUO (6.19-7.4), random sessions of random memfds
// (sizes 0-6 pages, random holes, file positions, seals, writes after
// preserve), a kexec into the same release, then a random subset retrieved
// and every session finished. A ledger kept by the test (not the model)
// says what each memfd held at reboot; every retrieved memfd must equal it,
// and no invariant may be violated on either side, in particular
// INV_LUO_SERIALIZED_PRESERVED (everything liveupdate_reboot() wrote is
// preserved), INV_KHO_BLOCK_CHAIN_VALID and INV_MEMFD_FOLIO_ENTRY_EXACT
// (checked at liveupdate_reboot()) and INV_MEMFD_RESTORED_CONTENT (the
// model's own comparison). Sometimes a third kernel follows, with a
// session made in the second.
//
// test_kho's folio list the same way: random release (6.17-7.4), seed and
// size; INV_FOLIO_INFO_ENTRY_EXACT must hold when it is written and the
// next kernel must restore every folio.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <map>
#include <string>
#include <vector>

#include "core/rc_run.hpp"
#include "model/kho/clients.hpp"
#include "model/kho/luo.hpp"
#include "model/kho/machine.hpp"
#include "model/kho/memfd.hpp"

namespace khospec::model {
namespace {

struct Expect {
  std::vector<std::uint8_t> bytes;
  std::uint64_t pos = 0;
  std::uint32_t seals = 0;
};

void no_errors(const Machine& m, const std::string& when) {
  for (const auto& f : m.all_findings())
    if (f.level == "error") RC_FAIL(when + ": " + f.id + ": " + f.detail);
}

// Kernel `k` preserves random memfds in random sessions; the ledger gets
// what each holds at the end (after writes made once preserved).
std::map<std::pair<std::string, std::uint64_t>, Expect> fill(Kernel& k, const std::string& prefix) {
  std::map<std::pair<std::string, std::uint64_t>, Expect> ledger;
  const int nsessions = *rc::gen::inRange(1, 4);
  for (int s = 0; s < nsessions; ++s) {
    const std::string name = prefix + std::to_string(s);
    const int sfd = k.luo_create_session(name);
    RC_ASSERT(sfd >= 0);
    const int nfiles = *rc::gen::inRange(0, 4);
    for (int f = 0; f < nfiles; ++f) {
      const bool sealing = *rc::gen::arbitrary<bool>();
      const int fd = k.memfd_create(sealing);
      const std::uint64_t pages = *rc::gen::inRange<std::uint64_t>(0, 7);
      RC_ASSERT(k.memfd_truncate(fd, pages * PAGE_SIZE_4K - (pages ? *rc::gen::inRange<std::uint64_t>(0, 100) : 0)) == 0);
      for (std::uint64_t p = 0; p < pages; ++p) {
        if (*rc::gen::inRange(0, 3) == 0) continue;  // a hole
        const auto tag = static_cast<std::uint8_t>(*rc::gen::inRange(1, 255));
        RC_ASSERT(k.memfd_write(fd, p * PAGE_SIZE_4K + 8, std::vector<std::uint8_t>(32, tag)) == 0);
      }
      RC_ASSERT(k.memfd_seek(fd, *rc::gen::inRange<std::uint64_t>(0, 1u << 20)) == 0);
      if (sealing && *rc::gen::arbitrary<bool>()) RC_ASSERT(k.memfd_add_seals(fd, F_SEAL_SHRINK | F_SEAL_GROW) == 0);
      const std::uint64_t token = *rc::gen::inRange<std::uint64_t>(0, 1u << 30) * 4 + static_cast<std::uint64_t>(f);
      RC_ASSERT(k.luo_preserve_fd(sfd, fd, token) == 0);
      // Writes after preserve reach the same folios (and the file position
      // is taken again at freeze).
      const Memfd* m = k.memfds().get(fd);
      if (m->size >= 16 && !(m->seals & F_SEAL_WRITE) && *rc::gen::arbitrary<bool>())
        RC_ASSERT(k.memfd_write(fd, 0, std::vector<std::uint8_t>(16, 0xab)) == 0);
      if (*rc::gen::arbitrary<bool>()) RC_ASSERT(k.memfd_seek(fd, 4242) == 0);
      ledger[{name, token}] = {k.memfds().content(*m), m->pos, m->seals};
    }
  }
  return ledger;
}

// Kernel `k` retrieves a random subset of the ledger and finishes every
// session; each retrieved memfd equals the ledger (seals only for memfd-v2).
void drain(Kernel& k, const std::map<std::pair<std::string, std::uint64_t>, Expect>& ledger) {
  std::map<std::string, int> sessions;
  for (const auto& [key, want] : ledger) {
    if (!sessions.count(key.first)) {
      sessions[key.first] = k.luo_retrieve_session(key.first);
      RC_ASSERT(sessions[key.first] >= 0);
    }
    if (*rc::gen::inRange(0, 4) == 0) continue;  // left for finish() to give back
    const int fd = k.luo_retrieve_fd(sessions[key.first], key.second);
    RC_ASSERT(fd >= 0);
    const Memfd* m = k.memfds().get(fd);
    RC_ASSERT(k.memfds().content(*m) == want.bytes);
    RC_ASSERT(m->pos == want.pos);
    if (k.writes("memfd-v2")) RC_ASSERT(m->seals == want.seals);
  }
  for (const auto& [name, fd] : sessions) RC_ASSERT(k.luo_finish(fd) == 0);
}

TEST(LuoProp, SessionsSurviveKexec) {
  testutil::rc_run_property("LuoProp/SessionsSurviveKexec", "seed=2026120618 max_success=60 max_size=30", [] {
    static const char* kReleases[] = {"6.19", "7.0", "7.1", "7.2", "7.3", "7.4"};
    const char* release = *rc::gen::elementOf(std::vector<const char*>(std::begin(kReleases), std::end(kReleases)));
    auto cfg = *kernel_config_for(release, "kho=on liveupdate=on");
    Machine m(machine_with_ram(1ull << 30));
    Kernel& k1 = m.boot_cold(cfg);
    const auto ledger1 = fill(k1, "a");
    RC_ASSERT(k1.kexec_file_load() == 0);
    Kernel* k2 = m.kexec(cfg);
    RC_ASSERT(k2 != nullptr);
    no_errors(m, std::string(release) + " after kexec");  // incl. INV_LUO_SERIALIZED_PRESERVED
    drain(*k2, ledger1);
    m.check_handover();  // INV_MEMFD_RESTORED_CONTENT
    k2->check_invariants();
    no_errors(m, std::string(release) + " after retrieve");
    if (*rc::gen::arbitrary<bool>()) {
      const auto ledger2 = fill(*k2, "b");
      RC_ASSERT(k2->kexec_file_load() == 0);
      Kernel* k3 = m.kexec(cfg);
      RC_ASSERT(k3 != nullptr);
      RC_ASSERT(k3->luo()->incoming_liveupdate_number() == 2u);
      drain(*k3, ledger2);
      m.check_handover();
      k3->check_invariants();
      no_errors(m, std::string(release) + " third kernel");
    }
  });
}

TEST(LuoProp, TestKhoFolioInfoRoundTrips) {
  testutil::rc_run_property("LuoProp/TestKhoFolioInfoRoundTrips", "seed=2026120700 max_success=30 max_size=30", [] {
    static const char* kReleases[] = {"6.17", "6.18", "6.19", "7.0", "7.1", "7.2", "7.3", "7.4"};
    const char* release = *rc::gen::elementOf(std::vector<const char*>(std::begin(kReleases), std::end(kReleases)));
    auto cfg = *kernel_config_for(release, "kho=on");
    cfg.test_kho = true;
    cfg.seed = *rc::gen::inRange<std::uint64_t>(0, 1u << 30);
    cfg.test_kho_max_mem = *rc::gen::inRange<std::uint64_t>(1, 17) << 18;
    Machine m(machine_with_ram(1ull << 30));
    Kernel& k1 = m.boot_cold(cfg);
    TestKhoClient* t = nullptr;
    for (auto& c : k1.clients())
      if (auto* x = dynamic_cast<TestKhoClient*>(c.get())) t = x;
    RC_ASSERT(t != nullptr);
    RC_ASSERT(t->check_folios_info(k1).empty());  // INV_FOLIO_INFO_ENTRY_EXACT
    // kho_test_generate_data()'s cap: the folios fill max_mem exactly (real 7.3: 8 MiB).
    RC_ASSERT(t->folio_bytes() == cfg.test_kho_max_mem);
    const auto& era = k1.era();
    if (era.finalize == FinalizeModel::notifier_abort) RC_ASSERT(k1.debugfs_finalize_write(1) == 0);
    if (era.finalize == FinalizeModel::refresh) RC_ASSERT(k1.kho_finalize() == 0);
    RC_ASSERT(k1.kexec_file_load() == 0);
    Kernel* k2 = m.kexec(cfg);
    RC_ASSERT(k2 != nullptr);
    no_errors(m, std::string(release) + " test_kho after kexec");
    bool restored = false;
    for (auto& c : k2->clients())
      if (auto* x = dynamic_cast<TestKhoClient*>(c.get())) restored = x->restored_ok();
    RC_ASSERT(restored);
  });
}

}  // namespace
}  // namespace khospec::model
