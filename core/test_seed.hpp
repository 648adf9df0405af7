// The seed of a randomised (non-RapidCheck) test: KHOSPEC_SEED replays one,
// otherwise a fresh one; either way it is printed, so a CI failure can be rerun.
#pragma once

#include <cstdlib>
#include <iostream>
#include <random>
#include <string>

namespace khospec::testutil {

inline unsigned test_seed(const std::string& id) {
  unsigned seed = 0;
  if (const char* s = std::getenv("KHOSPEC_SEED"); s && *s)
    seed = static_cast<unsigned>(std::strtoul(s, nullptr, 0));
  else
    seed = std::random_device{}();
  std::cout << id << ": seed=" << seed << " (reproduce: KHOSPEC_SEED=" << seed << ")" << std::endl;
  return seed;
}

}  // namespace khospec::testutil
