// The kernel-image reader on synthetic images built at test time (every
// compression through its library, every format), on broken ones (each must
// give a clear error and never a crash), and .config parsing.
#include <gtest/gtest.h>

#include "conformance/kimage/kimage.hpp"
#include "conformance/kimage/kimage_testdata.hpp"

namespace khospec::conformance {
namespace {

using namespace testdata;

KernelImageResult inspect(const Bytes& b) { return inspect_kernel_image(b); }

void expect_734(const KernelImageResult& r) {
  ASSERT_TRUE(r.ok()) << r.error_kind << ": " << r.error;
  EXPECT_EQ(r.image->release, "7.3.4");
  EXPECT_EQ(r.image->major, 7);
  EXPECT_EQ(r.image->minor, 3);
  ASSERT_TRUE(r.image->config) << r.image->config_missing;
  EXPECT_EQ(r.image->config->value("KEXEC_HANDOVER"), "y");
  EXPECT_EQ(r.image->config->value("LIVEUPDATE"), "y");
  EXPECT_EQ(r.image->config->value("LIVEUPDATE_MEMFD"), "n");
  EXPECT_EQ(r.image->config->value("KEXEC_HANDOVER_ENABLE_DEFAULT"), "n");
  EXPECT_EQ(r.image->config->value("TEST_KEXEC_HANDOVER"), "m");
}

// arch/x86/boot/compressed/Makefile: the payload compressed as CONFIG_KERNEL_* chose.
class BzImage : public ::testing::TestWithParam<Compression> {};

TEST_P(BzImage, ReleaseAndConfigThroughEachCompression) {
  auto r = inspect(bzimage_of(GetParam()));
  expect_734(r);
  EXPECT_EQ(r.image->format, "bzImage");
  EXPECT_EQ(r.image->arch, "x86");
  EXPECT_EQ(r.image->compression, compression_name(GetParam()));
  EXPECT_EQ(r.image->setup_version, "7.3.4 (test@khospec) #1 SMP PREEMPT");
  EXPECT_EQ(r.image->banner, banner("7.3.4"));
  EXPECT_FALSE(r.image->sections_known);  // the payload here is no ELF
}

TEST_P(BzImage, TruncatedPayloadIsTruncated) {
  Bytes full = bzimage_of(GetParam());
  Bytes cut(full.begin(), full.end() - 200);
  auto r = inspect(cut);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error_kind, "truncated") << r.error;
}

TEST_P(BzImage, PayloadStreamCutShortIsTruncatedOrCorrupt) {
  // The header's length agrees with the file, but the stream inside ends early.
  Bytes kernel = kernel_body();
  Bytes z = compress(GetParam(), kernel);
  z.resize(z.size() / 2);
  auto r = inspect(bzimage(z));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error_kind == "truncated" || r.error_kind == "corrupt") << r.error_kind << ": " << r.error;
}

INSTANTIATE_TEST_SUITE_P(Kimage, BzImage,
                         ::testing::Values(Compression::gzip, Compression::xz, Compression::zstd, Compression::lz4,
                                           Compression::lz4_legacy, Compression::lzma, Compression::bzip2),
                         [](const ::testing::TestParamInfo<Compression>& p) {
                           std::string n(compression_name(p.param));
                           return n == "lz4 (legacy frames)" ? std::string("lz4_legacy") : n;
                         });

TEST(BzImage, UncompressedPayloadIsRead) {
  // CONFIG_KERNEL_UNCOMPRESSED: the payload is the ELF itself.
  Bytes rodata = kernel_body();
  auto r = inspect(bzimage(vmlinux(rodata, 4096)));
  expect_734(r);
  EXPECT_EQ(r.image->compression, "none");
  EXPECT_TRUE(r.image->sections_known);
}

// Compatible strings are literals of the kernel: preflight asks whether B's
// kernel holds A's ("memfd-v2" absent: a bumped or configured-out handler). Found
// NUL-terminated in the decompressed payload only, never as a prefix of another.
TEST(BzImage, StringsAreLookedForInTheDecompressedKernel) {
  Bytes body = kernel_body();
  const std::string lit = "memfd-v2";
  body.insert(body.begin() + 100, lit.begin(), lit.end());
  body.insert(body.begin() + 100 + static_cast<long>(lit.size()), 0);
  const std::string longer = "luo-v55";
  body.insert(body.begin() + 200, longer.begin(), longer.end());
  body.insert(body.begin() + 200 + static_cast<long>(longer.size()), 0);
  ReadOptions opts;
  opts.strings = {"memfd-v2", "memfd-v9", "luo-v5"};
  auto r = inspect_kernel_image(bzimage_of(Compression::xz, body), opts);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.image->strings.at("memfd-v2"));
  EXPECT_FALSE(r.image->strings.at("memfd-v9"));
  EXPECT_FALSE(r.image->strings.at("luo-v5"));  // only "luo-v55" is there
  EXPECT_TRUE(inspect(bzimage_of(Compression::xz, body)).image->strings.empty());  // none asked
}

TEST(BzImage, LzoIsNamedAndRefused) {
  Bytes lzo = {0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0};
  auto r = inspect(bzimage(lzo));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error_kind, "unknown_compression");
  EXPECT_NE(r.error.find("lzo"), std::string::npos) << r.error;
}

TEST(BzImage, UnknownPayloadMagicIsUnknownCompression) {
  auto r = inspect(bzimage(Bytes(64, 0xab)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error_kind, "unknown_compression");
  EXPECT_NE(r.error.find("ab ab ab"), std::string::npos) << r.error;
}

TEST(BzImage, HeaderAndBannerMustAgree) {
  auto r = inspect(bzimage(compress(Compression::gzip, kernel_body("7.2.13")), "7.3.4 (x) #1"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error_kind, "corrupt");
  EXPECT_NE(r.error.find("7.2.13"), std::string::npos) << r.error;
}

TEST(BzImage, NoIkconfigSaysWhichOptionToEnable) {
  auto r = inspect(bzimage_of(Compression::xz, kernel_body("7.3.4", false)));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_FALSE(r.image->config);
  EXPECT_NE(r.image->config_missing.find("CONFIG_IKCONFIG=y"), std::string::npos);
}

TEST(BzImage, CorruptIkconfigIsAnError) {
  Bytes kernel = kernel_body();
  std::string_view text(reinterpret_cast<const char*>(kernel.data()), kernel.size());
  std::size_t st = text.find("IKCFG_ST");
  for (std::size_t i = st + 20; i < st + 40; ++i) kernel[i] ^= 0x5a;  // inside the deflate data
  auto r = inspect(bzimage_of(Compression::gzip, kernel));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error_kind, "corrupt") << r.error;
  EXPECT_NE(r.error.find("configuration"), std::string::npos) << r.error;
}

TEST(BzImage, EveryPrefixIsAnErrorNeverACrash) {
  Bytes full = bzimage_of(Compression::gzip);
  for (std::size_t n = 0; n < full.size(); n += 37) {
    auto r = inspect(Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n)));
    EXPECT_FALSE(r.ok()) << "prefix " << n;
    EXPECT_FALSE(r.error.empty()) << "prefix " << n;
  }
}

TEST(BzImage, SingleByteCorruptionsNeverCrash) {
  Bytes full = bzimage_of(Compression::xz);
  for (std::size_t i = 0; i < full.size(); i += 53) {
    Bytes b = full;
    b[i] ^= 0xff;
    auto r = inspect(b);
    if (!r.ok()) {
      EXPECT_FALSE(r.error_kind.empty()) << i;
    }
  }
}

TEST(Vmlinux, BannerFromTheLinuxBannerSymbol) {
  // A decoy banner comes first in the bytes; the symbol points at the real one.
  Bytes rodata = bytes_of(banner("9.9.9"));
  rodata.push_back(0);
  std::size_t at = rodata.size();
  append(rodata, banner("7.3.4"));
  rodata.push_back(0);
  append(rodata, ikconfig_block());
  auto r = inspect(vmlinux(rodata, at));
  expect_734(r);
  EXPECT_EQ(r.image->format, "vmlinux");
  EXPECT_EQ(r.image->arch, "x86_64");
  EXPECT_EQ(r.image->banner, banner("7.3.4"));
  EXPECT_TRUE(r.image->sections_known);
  EXPECT_TRUE(r.image->sections.empty());  // no mainline 7.x kernel has them
}

TEST(Vmlinux, StrippedFallsBackToTheBannerString) {
  auto r = inspect(vmlinux(kernel_body(), 0, {}, false));
  expect_734(r);
}

TEST(Vmlinux, LiveupdateSectionsAreListed) {
  Bytes features(8, 0);
  put32(features, 0, 0x4c565550);
  put32(features, 4, 1);
  Bytes entry(80, 0);
  std::memcpy(entry.data(), "memfd", 5);
  entry[56] = 3, entry[64] = 3, entry[72] = 1;
  append(features, entry);
  Bytes other = bytes_of("alpha");
  other.push_back(0);
  other.push_back(0x01);  // not printable: left out
  other.push_back(0);
  auto r = inspect(vmlinux(kernel_body(), 4096,
                           {{".liveupdate_versions", liveupdate_versions({"luo-v1", "memfd-v1"})},
                            {".liveupdate_features", features},
                            {".liveupdate_other", other}}));
  ASSERT_TRUE(r.ok()) << r.error;
  const auto& s = r.image->sections;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].name, ".liveupdate_versions");
  EXPECT_EQ(s[0].version, 1u);
  EXPECT_EQ(s[0].strings, (std::vector<std::string>{"luo-v1", "memfd-v1"}));
  EXPECT_EQ(s[1].strings, (std::vector<std::string>{"memfd supp=0x3 req=0x3 active=0x1"}));
  EXPECT_FALSE(s[2].version);
  EXPECT_EQ(s[2].strings, (std::vector<std::string>{"alpha"}));
}

TEST(Vmlinux, SectionHeadersPastTheEndAreTruncated) {
  Bytes v = vmlinux(kernel_body(), 4096);
  v.resize(v.size() - 10);
  auto r = inspect(v);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error_kind, "truncated") << r.error;
}

TEST(Vmlinux, ElfWithoutBannerIsNotAKernel) {
  auto r = inspect(vmlinux(Bytes(256, 0x41), 0, {}, false));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error_kind, "not_kernel_image") << r.error;
}

TEST(Arm64, ImageAndImageGz) {
  auto r = inspect(arm64_image());
  expect_734(r);
  EXPECT_EQ(r.image->format, "arm64 Image");
  EXPECT_EQ(r.image->arch, "arm64");
  auto gz = inspect(compress(Compression::gzip, arm64_image()));
  expect_734(gz);
  EXPECT_EQ(gz.image->format, "arm64 Image.gz");
  EXPECT_EQ(gz.image->compression, "gzip");
}

TEST(Arm64, TruncatedImageGzIsTruncated) {
  Bytes gz = compress(Compression::gzip, arm64_image());
  gz.resize(gz.size() / 2);
  auto r = inspect(gz);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error_kind, "truncated") << r.error;
}

TEST(NotAKernel, TextEmptyAndGzippedText) {
  auto text = inspect(bytes_of(std::string(200, 'x')));
  EXPECT_EQ(text.error_kind, "not_kernel_image");
  EXPECT_NE(text.error.find("HdrS"), std::string::npos) << text.error;
  EXPECT_EQ(inspect({}).error_kind, "not_kernel_image");
  EXPECT_EQ(inspect(bytes_of("tiny")).error_kind, "not_kernel_image");
  auto gz = inspect(compress(Compression::gzip, bytes_of(std::string(500, 'y'))));
  EXPECT_EQ(gz.error_kind, "not_kernel_image") << gz.error;
  EXPECT_NE(gz.error.find("gzip"), std::string::npos) << gz.error;
}

TEST(NotAKernel, MissingFileIsAnIoError) {
  auto r = read_kernel_image("/nonexistent/bzImage");
  EXPECT_EQ(r.error_kind, "io");
}

TEST(KernelConfig, ValuesUnsetAndAbsent) {
  auto c = parse_kernel_config(kConfig);
  EXPECT_EQ(c.value("CONFIG_KEXEC_HANDOVER"), "y");
  EXPECT_EQ(c.value("KEXEC_HANDOVER"), "y");
  EXPECT_EQ(c.value("LIVEUPDATE_MEMFD"), "n");   // "# ... is not set"
  EXPECT_EQ(c.value("NOT_IN_THE_FILE"), "n");    // absent
  EXPECT_EQ(c.value("LOCALVERSION"), "\"-kho\"");
  EXPECT_EQ(c.value("NR_CPUS"), "64");
  EXPECT_TRUE(c.enabled("TEST_KEXEC_HANDOVER"));
  EXPECT_FALSE(c.enabled("KEXEC_HANDOVER_ENABLE_DEFAULT"));
}

TEST(Decompress, OutputLimitIsAnError) {
  Bytes big(4u << 20, 0);
  auto d = decompress(Compression::zstd, compress(Compression::zstd, big), 1u << 20);
  EXPECT_FALSE(d.ok());
  EXPECT_NE(d.error.find("exceeds"), std::string::npos) << d.error;
}

}  // namespace
}  // namespace khospec::conformance
