// kexec-metadata: include/linux/kho/abi/kexec_metadata.h, kernel/liveupdate/
// kexec_handover.c kho_in_kexec_metadata() and kho_out_kexec_metadata(), 7.3
// (7.1+). The writer stores version 1, its own release (strscpy of uname -r)
// and the incoming count + 1; the reader ignores a blob shorter than 4 bytes,
// of another version or shorter than the struct, and strscpy()s the release.
// Nothing else depends on it, so every finding here is a warning.
#include "conformance/handover/readers.hpp"
#include "core/rules.hpp"

namespace khospec::conformance::follow {

void read_kexec_metadata(Walk& w, HandoverNode& client, std::span<const std::uint8_t> blob,
                         std::optional<std::uint64_t> blob_size) {
  const Layout& l = layout("kho_kexec_metadata");
  const Struct m(l, blob, w.endian());
  HandoverNode& node = client;  // the struct is the blob: its fields are the client's
  const std::uint64_t version = m.u("version");
  add_field(node, "version", version, false);
  const std::uint64_t have = blob_size.value_or(blob.size());
  if (have < 4) {
    w.add("kho_metadata_invalid", client.path,
          "the blob is " + dec(have) + " bytes, too small for a version: kho_in_kexec_metadata() ignores it");
    return;
  }
  if (version != 1) {
    w.add("kho_metadata_invalid", client.path,
          "kexec-metadata version " + dec(version) + ", expected 1: kho_in_kexec_metadata() ignores it");
    return;
  }
  bool terminated = false;
  const std::string release = m.str("previous_release", &terminated);
  const std::uint64_t count = m.u("kexec_count");
  add_text(node, "previous_release", printable(release));
  add_field(node, "kexec_count", count, false);
  if (blob.size() < l.size || have < l.size) {
    // blob-size vs 73 is kho_blob_size_mismatch (follow.cpp); here only what the reader does.
    return;
  }
  if (!terminated)
    w.add("kho_metadata_invalid", client.path,
          "previous_release fills all " + dec(m.field_size("previous_release")) +
              " bytes without a NUL: the next kernel's strscpy() cuts it to \"" + printable(release.substr(0, 64)) + "\"");
  else if (release.empty())
    w.add("kho_metadata_invalid", client.path, "previous_release is empty: the writer copies its uname -r there");
  if (count == 0)
    w.add("kho_metadata_invalid", client.path,
          "kexec_count is 0: kho_out_kexec_metadata() writes the incoming count + 1, at least 1");
  if (!w.opts().release.empty() && terminated && release != w.opts().release)
    w.add("kho_metadata_chain", client.path,
          "previous_release \"" + printable(release) + "\" does not name the kernel that wrote this hand-over (" +
              w.opts().release + ", --release)");
}

}  // namespace khospec::conformance::follow

namespace khospec::conformance {

void check_metadata_chain(const std::vector<const Handover*>& in_boot_order, const std::vector<std::string>& files,
                          Report& report) {
  const HandoverNode* prev = nullptr;
  std::string prev_file;
  for (std::size_t i = 0; i < in_boot_order.size(); ++i) {
    if (!in_boot_order[i]) continue;
    const HandoverNode* m = nullptr;
    for (const HandoverNode* c : in_boot_order[i]->find_all("client"))
      if (c->format.rfind("kexec-metadata", 0) == 0 && !m) m = c;
    if (!m) continue;
    const HandoverField* c = m->field("kexec_count");
    if (!c || !c->number) continue;
    const std::string file = i < files.size() ? files[i] : std::string();
    if (prev) {
      const std::uint64_t before = *prev->field("kexec_count")->number;
      if (*c->number != before + 1)
        report.add(make_finding("kho_metadata_chain", file, std::nullopt, m->path, "",
                                "kexec_count " + std::to_string(*c->number) + " does not follow " + prev_file + "'s " +
                                    std::to_string(before) +
                                    ": each kernel writes the count it received + 1 (kho_out_kexec_metadata())",
                                "kho"));
    }
    prev = m;
    prev_file = file;
  }
}

}  // namespace khospec::conformance
