// Private helpers shared by the memblock model's translation units.
#pragma once

#include "model/memblock/memblock.hpp"

namespace khospec::model {

// Marks one public call; the outermost one runs check_invariants() when it
// ends (config().self_check) and records the violations under the call name.
// Above kPerCallCheck regions the whole-array pass is left to the kernel's
// phase checks: per call it made a misread map's bogus blocks quadratic (the
// call's own window is still checked, memblock_window()).
class Memblock::Scope {
 public:
  static constexpr std::uint64_t kPerCallCheck = 4096;
  Scope(Memblock& m, std::string_view op) : m_(m), op_(op) { ++m_.depth_; }
  ~Scope() {
    if (--m_.depth_ == 0 && m_.cfg_.self_check &&
        m_.memory_.cnt() + m_.reserved_.cnt() + m_.physmem_.cnt() <= kPerCallCheck)
      m_.record(m_.check_invariants(), op_);
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
  bool outer() const { return m_.depth_ == 1; }

 private:
  Memblock& m_;
  std::string_view op_;
};

}  // namespace khospec::model
