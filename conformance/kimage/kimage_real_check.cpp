// kimage_real_check IMAGE DOT_CONFIG: a kernel built by scripts/test-kernel
// against its own build's .config. The release must be the one the .config's
// header names ("# Linux/x86 7.3.4 Kernel Configuration") and the embedded
// configuration must equal the .config, option by option. Exit 0 or 1.
#include <fstream>
#include <iostream>
#include <sstream>

#include "conformance/kimage/kimage.hpp"

int main(int argc, char** argv) {
  using namespace khospec::conformance;
  if (argc != 3) {
    std::cerr << "usage: kimage_real_check IMAGE DOT_CONFIG\n";
    return 1;
  }
  auto r = read_kernel_image(argv[1]);
  if (!r.ok()) {
    std::cerr << argv[1] << ": " << r.error_kind << ": " << r.error << "\n";
    return 1;
  }
  std::ifstream f(argv[2]);
  std::stringstream text;
  text << f.rdbuf();
  KernelConfig want = parse_kernel_config(text.str());
  std::string header;
  std::istringstream lines(want.text);
  while (std::getline(lines, header) && header.find("Kernel Configuration") == std::string::npos) {}
  // "# Linux/x86 7.3.4 Kernel Configuration" -> "7.3.4"
  std::istringstream words(header);
  std::string hash, arch, release;
  words >> hash >> arch >> release;
  const auto& k = *r.image;
  std::cout << argv[1] << ": " << k.format << " " << k.arch << " release " << k.release << " (" << k.major << "."
            << k.minor << "), compression " << k.compression << ", .config header release " << release << "\n";
  int bad = 0;
  if (k.release != release) {
    std::cerr << "release " << k.release << " != the .config's " << release << "\n";
    ++bad;
  }
  if (!k.config) {
    std::cerr << "no configuration: " << k.config_missing << "\n";
    return 1;
  }
  if (k.config->values != want.values) {
    for (const auto& [key, v] : want.values)
      if (k.config->value(key) != v) std::cerr << key << ": image " << k.config->value(key) << ", .config " << v << "\n", ++bad;
    for (const auto& [key, v] : k.config->values)
      if (!want.values.count(key)) std::cerr << key << ": only in the image (" << v << ")\n", ++bad;
    ++bad;
  }
  std::cout << "  " << k.config->values.size() << " options equal to the .config; KEXEC_HANDOVER="
            << k.config->value("KEXEC_HANDOVER") << " LIVEUPDATE_MEMFD=" << k.config->value("LIVEUPDATE_MEMFD")
            << "; " << k.sections.size() << " .liveupdate_* sections\n";
  return bad ? 1 : 0;
}
