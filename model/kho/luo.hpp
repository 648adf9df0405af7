// The Live Update Orchestrator (kernel/liveupdate/luo_{core,session,file,flb}.c)
// as a KHO client, per release (docs/kernel-behaviour.md §9):
//   - luo-v1 (6.19-7.1): the "LUO" subtree is a one-page FDT {compatible,
//     liveupdate-number, luo-session {compatible "luo-session-v2",
//     luo-session-header}} plus, from 7.0, luo-flb {compatible "luo-flb-v1",
//     luo-flb-header}. Sessions live in one 16-page block (a u64 count, then
//     luo_session_ser[]), each session's files in a lazily allocated 2-page
//     array of luo_file_ser. 7.1 registers the FDT with blob-size =
//     fdt_totalsize() and checks kho_is_preserved() when reading it.
//   - luo-v5 (7.2+): the subtree is the 32-byte struct luo_ser; sessions and
//     each session's files are kho_block chains grown at create/preserve
//     time and filled at reboot; sessions_pa is written at reboot.
// Outgoing state is set up at late_initcall (liveupdate=on, KHO on), written
// at liveupdate_reboot(); the next kernel reads the subtree at
// early_initcall (a bad one panics), deserializes sessions on the first use
// of /dev/liveupdate, and frees what it consumed (kho_restore_free).
//
// The uAPI (ioctls on /dev/liveupdate and on session fds) is a set of calls
// returning an fd or a negative errno, as the ioctls do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/kho/kernel.hpp"
#include "model/kho/memfd_luo.hpp"

namespace khospec::model {

// A preserved memfd as userspace saw it at liveupdate_reboot(): what the
// next kernel must give back (INV_MEMFD_RESTORED_CONTENT, compared by
// Machine::check_handover()).
struct LuoHandedMemfd {
  std::string session;
  std::uint64_t token = 0;
  std::uint64_t size = 0;
  std::uint64_t pos = 0;
  std::uint32_t seals = 0;
  bool seals_kept = false;    // memfd-v2
  std::uint64_t digest = 0;   // fnv1a of [0, size)
};

// A file the incoming side gave back to userspace, as it was at retrieval.
struct LuoRetrieved {
  std::string session;
  std::uint64_t token = 0;
  int fd = -1;
  std::uint64_t size = 0;
  std::uint64_t pos = 0;
  std::uint32_t seals = 0;
  std::uint64_t digest = 0;  // fnv1a of [0, size)
};

class LuoClient : public KhoClient {
 public:
  std::string name() const override { return "LUO"; }
  // liveupdate_early_init() (the incoming subtree), luo_late_startup() (the
  // outgoing one) and memfd_luo_init() (the handler).
  void init(Kernel& k) override;
  // liveupdate_reboot(): serialize sessions, files and FLBs (6.19/7.0 then
  // kho_finalize(), a failure -EAGAIN); INV_LUO_SERIALIZED_PRESERVED after.
  int on_reboot(Kernel& k) override;

  // ---- uAPI: an fd >= 0 or -errno -------------------------------------
  int create_session(Kernel& k, std::string_view name);        // LIVEUPDATE_IOCTL_CREATE_SESSION
  int retrieve_session(Kernel& k, std::string_view name);      // LIVEUPDATE_IOCTL_RETRIEVE_SESSION
  int preserve_fd(Kernel& k, int session_fd, int fd, std::uint64_t token);  // LIVEUPDATE_SESSION_PRESERVE_FD
  int retrieve_fd(Kernel& k, int session_fd, std::uint64_t token);         // LIVEUPDATE_SESSION_RETRIEVE_FD
  int finish(Kernel& k, int session_fd);                       // LIVEUPDATE_SESSION_FINISH
  int close_session(Kernel& k, int session_fd);                // close(): luo_session_release()

  // ---- observation ------------------------------------------------------
  bool enabled() const { return enabled_; }
  bool v5() const { return v5_; }
  std::uint64_t liveupdate_number() const { return number_out_; }
  std::uint64_t incoming_liveupdate_number() const { return number_in_; }
  phys_addr_t blob() const { return blob_; }                   // the outgoing "LUO" subtree
  const std::vector<LuoHandedMemfd>& handed_over() const { return handed_; }
  const std::vector<LuoRetrieved>& retrieved() const { return retrieved_; }
  // Incoming sessions userspace has retrieved, by name.
  std::vector<std::string> retrieved_sessions() const;
  // The memory the serialized state occupies, walked from the outgoing
  // blob: [addr, len) of the blob, session/file blocks or arrays, the FLB
  // page and every memfd structure. Empty before liveupdate_reboot() ran.
  std::vector<std::pair<phys_addr_t, std::uint64_t>> serialized_structures(const Kernel& k,
                                                                           std::vector<std::string>* issues) const;
  // The invariants of the serialized state, run by liveupdate_reboot():
  // INV_LUO_SERIALIZED_PRESERVED, INV_KHO_BLOCK_CHAIN_VALID (luo-v5) and
  // INV_MEMFD_FOLIO_ENTRY_EXACT. The violations, also k's findings.
  std::vector<Finding> check_serialized(Kernel& k) const;

 private:
  struct File {
    std::uint64_t token = 0;
    std::string compatible;
    int fd = -1;                  // outgoing: the preserved memfd; incoming: after retrieve
    MemfdLuoPreserved preserved;  // outgoing
    phys_addr_t data = 0;         // incoming: luo_file_ser.data
    int retrieve_status = 0;      // 0 not tried, 1 retrieved, < 0 the sticky error
  };
  struct Session {
    std::string name;
    int fd = -1;
    bool incoming = false;
    bool retrieved = false;
    std::vector<File> files;
    std::vector<phys_addr_t> file_blocks;  // v5: the kho_block set of luo_file_ser
    phys_addr_t files_mem = 0;             // v1: the 2-page luo_file_ser array
  };

  void setup_incoming(Kernel& k);
  void setup_outgoing(Kernel& k);
  int deserialize(Kernel& k);              // luo_session_deserialize(): once, sticky
  int serialize(Kernel& k);                // luo_session_serialize() + luo_flb_serialize()
  int open(Kernel& k);                     // luo_open(): exclusive device, deserialize
  Session* session_by_fd(int fd);
  int grow(Kernel& k, std::vector<phys_addr_t>& blocks, std::uint64_t entries, std::uint64_t entry_size);
  void shrink(Kernel& k, std::vector<phys_addr_t>& blocks, std::uint64_t entries, std::uint64_t entry_size);
  void restore_free_blocks(Kernel& k, std::vector<phys_addr_t>& blocks);
  MemfdLuoHandler handler(const Kernel& k) const;
  bool handler_registered(const Kernel& k) const;
  void record_handed(Kernel& k);
  void check_preserved(const Kernel& k, FindingBatch& v) const;
  void check_chains(const Kernel& k, FindingBatch& v) const;
  void check_folio_entries(const Kernel& k, FindingBatch& v) const;

  bool enabled_ = false;       // liveupdate=on with KHO on (luo_global.enabled)
  bool v5_ = false;            // luo-v5 (else luo-v1)
  bool flb_node_ = false;      // luo-v1 with the luo-flb node (7.0, 7.1)
  std::uint64_t number_in_ = 0, number_out_ = 0;
  phys_addr_t blob_ = 0;       // outgoing FDT page (v1) or luo_ser (v5)
  phys_addr_t session_mem_ = 0;  // v1: the 16-page session block
  phys_addr_t flb_page_ = 0;
  std::vector<phys_addr_t> session_blocks_;  // v5, outgoing
  std::vector<Session> sessions_;            // outgoing and incoming
  // Incoming: where the previous kernel's sessions are, until deserialized.
  bool in_active_ = false;
  phys_addr_t in_sessions_ = 0;            // v5 sessions_pa; v1 session block
  bool deserialized_ = false;
  int deserialize_err_ = 0;
  bool serialized_ = false;
  std::vector<LuoHandedMemfd> handed_;
  std::vector<LuoRetrieved> retrieved_;
};

}  // namespace khospec::model
