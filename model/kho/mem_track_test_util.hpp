// Test allocators for the preserved-memory trackers (mem_track_*_test.cpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "model/kho/mem_track.hpp"
#include "model/kho/phys_image.hpp"

namespace khospec::model::testutil {

// A bump allocator that never reuses memory, fails on demand and keeps the
// set of live allocations so tests can check for leaks and double frees.
class TestAllocator : public PageAllocator {
 public:
  explicit TestAllocator(phys_addr_t base = 0x1'0000'0000) : next_(base) {}

  phys_addr_t alloc(std::uint64_t bytes, std::uint64_t align) override {
    ++calls_;
    if (budget_ == 0) return 0;
    if (budget_ > 0) --budget_;
    next_ = (next_ + align - 1) / align * align;
    const phys_addr_t a = next_;
    next_ += (bytes + align - 1) / align * align;
    live_[a] = bytes;
    log_.push_back({a, bytes});
    return a;
  }

  void free(phys_addr_t addr, std::uint64_t bytes) override {
    const auto it = live_.find(addr);
    if (it == live_.end() || it->second != bytes) {
      bad_frees_.push_back(addr);
      return;
    }
    live_.erase(it);
    freed_.push_back(addr);
  }

  // The next `n` allocations succeed, every later one fails; -1: unlimited.
  void allow(long n) { budget_ = n; }

  const std::map<phys_addr_t, std::uint64_t>& live() const { return live_; }
  const std::vector<phys_addr_t>& freed() const { return freed_; }
  const std::vector<phys_addr_t>& bad_frees() const { return bad_frees_; }
  const std::vector<std::pair<phys_addr_t, std::uint64_t>>& log() const { return log_; }
  long calls() const { return calls_; }

 private:
  phys_addr_t next_;
  long budget_ = -1;
  long calls_ = 0;
  std::map<phys_addr_t, std::uint64_t> live_;
  std::vector<phys_addr_t> freed_;
  std::vector<phys_addr_t> bad_frees_;
  std::vector<std::pair<phys_addr_t, std::uint64_t>> log_;
};

// Returns scripted addresses: one queue per allocation size, consumed in
// order (the order in which the kernel allocated the captured objects).
// An allocation with nothing scripted fails and is recorded.
class ScriptedAllocator : public PageAllocator {
 public:
  void script(std::uint64_t bytes, phys_addr_t addr) { queues_[bytes].push_back(addr); }

  phys_addr_t alloc(std::uint64_t bytes, std::uint64_t align) override {
    auto& q = queues_[bytes];
    if (q.empty()) {
      unscripted_.push_back(bytes);
      return 0;
    }
    const phys_addr_t a = q.front();
    q.pop_front();
    if (a % align) misaligned_.push_back(a);
    return a;
  }
  void free(phys_addr_t addr, std::uint64_t) override { freed_.push_back(addr); }

  std::size_t remaining() const {
    std::size_t n = 0;
    for (const auto& [bytes, q] : queues_) n += q.size();
    return n;
  }
  const std::vector<std::uint64_t>& unscripted() const { return unscripted_; }
  const std::vector<phys_addr_t>& misaligned() const { return misaligned_; }
  const std::vector<phys_addr_t>& freed() const { return freed_; }

 private:
  std::map<std::uint64_t, std::deque<phys_addr_t>> queues_;
  std::vector<std::uint64_t> unscripted_;
  std::vector<phys_addr_t> misaligned_;
  std::vector<phys_addr_t> freed_;
};


inline std::string issues_text(const std::vector<DecodeIssue>& issues) {
  std::string s;
  for (const auto& i : issues) s += i.what + "; ";
  return s;
}

// PhysImage owns its pages: tests that corrupt a copy clone it page by page.
inline PhysImage clone(const PhysImage& src) {
  PhysImage out;
  for (const auto& [start, end] : src.runs()) out.write(start, src.read(start, static_cast<std::size_t>(end - start)));
  return out;
}

inline bool has_issue(const std::vector<DecodeIssue>& issues, const std::string& needle) {
  return std::any_of(issues.begin(), issues.end(),
                     [&](const DecodeIssue& i) { return i.what.find(needle) != std::string::npos; });
}

}  // namespace khospec::model::testutil
