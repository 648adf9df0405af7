// Preflight: before `kexec -e`, what will the next kernel (B) make of what this
// one (A) preserved? A is a real hand-over (its root FDT and its memory, as
// validate follows them); B is a release, an era, or what its image says (release,
// IKCONFIG, the compatible strings its readers carry) plus its command line. The
// model boots B from A's bytes (the machine's memory is A's, read on demand) and
// each thing A preserved is looked up in B: revive, refuse, misread or dropped.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "conformance/image/image.hpp"
#include "conformance/validate/validate.hpp"

namespace khospec {
class JsonWriter;
}

namespace khospec::conformance {

// What is known of B.
struct NextKernel {
  std::string named;    // as the user named it: an image path, "7.3", "kho-v4"
  std::string source;   // "kernel image", "release" or "era"
  std::string release;  // "7.3.4" (an image's UTS_RELEASE) or the named release; "" for an era
  std::string era;      // the registry name of B's era ("kho-v4"), filled by preflight()
  // IKCONFIG, when the image carries it: CONFIG_X -> "y", "m", "n", ...
  std::optional<std::map<std::string, std::string>> config;
  // Client compatibles B's release has and its image does not hold (bumped or configured out).
  std::set<std::string> missing_compatibles;
  std::optional<std::string> cmdline;  // nullopt: assumed (kho=on liveupdate=on and A's reserve_mem names)
};

// One thing A preserved and what B makes of it.
struct PreflightItem {
  std::string kind;        // root, map, reserve_mem, kexec-metadata, test_kho, luo, luo_session, luo_file, memfd, client
  std::string name;        // "trace", a session name, "token 0x1234abcd", a node name
  std::string path;        // where in A's hand-over ("/memblock -> reserve_mem \"trace\"")
  std::string outcome;     // revive, refuse, misread, dropped
  std::string why;         // the two formats, the missing option or parameter, B's own message
  std::string decided_by;  // the part of B that decided: "kho_populate()", "B's command line", ...
};

struct Preflight {
  std::string a_abi;                // A's root format ("kho-v4")
  NextKernel b;
  std::string b_cmdline;            // the command line B's model booted with
  std::vector<PreflightItem> items;
  std::vector<std::string> notes;   // assumptions made (scratch, RAM, command line)
  std::vector<std::string> b_log;   // B's model dmesg ("KHO: ...", "luo: ...")
  std::vector<std::string> b_steps; // what B's model did, step by step (-v), and its findings
  bool all_revive() const;
};

struct PreflightOptions {
  // A's scratch areas (debugfs out/scratch_*); empty: khospec picks RAM no
  // preserved block uses (where B's early allocations land, not what it revives).
  std::vector<ScratchArea> scratch;
  std::uint64_t ram = 0;  // B's machine RAM in bytes; 0: from the image's extent (at least 2 GiB)
};

// `a` must be a validated root with an image (a.handover and a.map set).
// Returns nullopt with `error` set when B or A cannot be run (unknown release,
// no followed hand-over).
std::optional<Preflight> preflight(const Validation& a, const MemoryImage& image, NextKernel b,
                                   const PreflightOptions& opts, std::string& error);

// The compatibles preflight asks B's image about (every client format of the registry).
std::vector<std::string> preflight_probe_strings();

void render_preflight_text(std::ostream& out, const Preflight& p);
void write_preflight_json(JsonWriter& w, const Preflight& p);

}  // namespace khospec::conformance
