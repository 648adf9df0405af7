// Knowing a kernel from its image: which format (x86 bzImage, arm64 Image or
// a compressed Image, a vmlinux ELF), which release, the configuration it
// embeds (CONFIG_IKCONFIG) and its .liveupdate_* sections. What preflight
// needs to know about the next kernel before `kexec -e`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace khospec::conformance {

// The .config the image embeds (kernel/configs.c: gzip'd between the markers
// "IKCFG_ST" and "IKCFG_ED").
struct KernelConfig {
  std::string text;                           // the .config as built
  std::map<std::string, std::string> values;  // "CONFIG_X" -> "y", "m", "\"str\"", "0x10"
  // "y", "m", a string or number, or "n" (unset or absent: Kconfig treats both alike).
  // The CONFIG_ prefix is optional.
  std::string value(std::string_view option) const;
  bool enabled(std::string_view option) const { auto v = value(option); return v != "n"; }
};

// The options preflight asks about, in the order they are shown.
const std::vector<std::string_view>& kho_config_options();

// A .liveupdate_* ELF section (the RFC's .liveupdate_versions, the mm tree's
// .liveupdate_features): no mainline release has them yet.
struct LiveupdateSection {
  std::string name;
  std::uint64_t size = 0;
  std::optional<std::uint32_t> version;  // the 'LVUP' header's version, when it has one
  std::vector<std::string> strings;      // printable NUL-terminated strings after the header
};

struct KernelImage {
  std::string format;        // "bzImage", "vmlinux", "arm64 Image", "arm64 Image.gz" ...
  std::string arch;          // "x86_64", "arm64", or the ELF machine
  std::string compression;   // the payload's (bzImage) or the file's (Image.gz): "xz", "none"
  std::string release;       // "7.3.4" (UTS_RELEASE)
  int major = 0, minor = 0;  // 7, 3
  std::string banner;        // "Linux version 7.3.4 (...) #1 ..." (linux_banner)
  std::string setup_version; // bzImage: the setup header's kernel_version string
  std::optional<KernelConfig> config;
  std::string config_missing;     // why config is empty: which option to enable
  bool sections_known = false;    // an ELF was read: `sections` is the whole answer
  std::vector<LiveupdateSection> sections;
  std::vector<std::string> notes; // what was read where (shown with -v)
  // Each string asked for (ReadOptions::strings) -> whether the kernel's bytes hold
  // it NUL-terminated: a reader's compatible is a string literal of the kernel, so
  // a missing one means the kernel cannot match it (a bumped or configured-out client).
  std::map<std::string, bool> strings;
};

struct KernelImageResult {
  std::optional<KernelImage> image;
  std::string error_kind;  // not_kernel_image, truncated, unknown_compression, corrupt, io
  std::string error;       // what is wrong, said plainly
  bool ok() const { return image.has_value(); }
};

struct ReadOptions {
  std::vector<std::string> strings;  // look for these in the (decompressed) kernel: KernelImage::strings
};

// Inspects an image in memory or on disk; never throws on bad input.
KernelImageResult inspect_kernel_image(std::span<const std::uint8_t> bytes, const ReadOptions& opts = {});
KernelImageResult read_kernel_image(const std::filesystem::path& path, const ReadOptions& opts = {});

// Parses .config text (the IKCONFIG block, or a build tree's .config).
KernelConfig parse_kernel_config(std::string text);

}  // namespace khospec::conformance
