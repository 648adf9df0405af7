// RegionArray (model/memblock/region_array.hpp) against std::vector<MemblockRegion>:
//  - unit tests for the vector-like API, chunk splits (inserts into full
//    chunks at the front, middle and back), merges (erases that empty or
//    shrink chunks, erases spanning many chunks), regions at either end of a
//    chunk body, insert_keep()/erase_between(), first_ending_above() and
//    lower_bound_end()'s hint;
//  - RegionArray.MatchesVector: a RapidCheck property running random
//    insert / erase-range / push_back / overwrite / bulk insert / assign /
//    copy / insert_keep / erase_between operations on both, with arrays
//    large enough to span many chunks,
//    checking contents, index access, iteration both ways, search and the
//    internal structure (check_structure()) after every step.
// The property's seed is fixed and printed (rc_run_property); RC_PARAMS
// overrides it.
#include "model/memblock/region_array.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "core/rc_run.hpp"

namespace khospec::model {
namespace {

MemblockRegion rg(std::uint64_t i) { return {0x1000 * (2 * i + 1), 0x1000, 0, static_cast<int>(i % 7)}; }

std::vector<MemblockRegion> iota_regions(std::size_t n) {
  std::vector<MemblockRegion> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(rg(i));
  return v;
}

void expect_same(const RegionArray& a, const std::vector<MemblockRegion>& v) {
  ASSERT_EQ(a.check_structure(), "");
  ASSERT_EQ(a.size(), v.size());
  ASSERT_TRUE(a == v);
  ASSERT_TRUE(v == a);
  for (std::size_t i = 0; i < v.size(); ++i) ASSERT_EQ(a[i], v[i]) << i;
  ASSERT_TRUE(std::equal(a.begin(), a.end(), v.begin(), v.end()));
  ASSERT_TRUE(std::equal(std::make_reverse_iterator(a.end()), std::make_reverse_iterator(a.begin()), v.rbegin(),
                         v.rend()));
}

TEST(RegionArray, EmptyAndBasics) {
  RegionArray a;
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(a.begin(), a.end());
  EXPECT_EQ(a.first_ending_above(0), 0u);
  EXPECT_THROW((void)a.at(0), std::out_of_range);
  EXPECT_TRUE(a == std::vector<MemblockRegion>{});
  a.push_back(rg(1));
  a.insert(0, rg(0));
  a.insert(std::size_t{2}, rg(2));
  expect_same(a, iota_regions(3));
  EXPECT_EQ(a.front(), rg(0));
  EXPECT_EQ(a.back(), rg(2));
  EXPECT_EQ(a.at(1), rg(1));
  a[1].nid = 42;
  EXPECT_EQ(a.at(1).nid, 42);
  a.erase(1);
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1], rg(2));
  a.clear();
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.check_structure(), "");
}

TEST(RegionArray, VectorConversionsAndComparisons) {
  const auto v = iota_regions(300);
  RegionArray a = v;
  expect_same(a, v);
  std::vector<MemblockRegion> back = a;
  EXPECT_EQ(back, v);
  EXPECT_EQ(a.to_vector(), v);
  RegionArray b;
  b = v;
  EXPECT_TRUE(a == b);
  b[299].size = 1;
  EXPECT_TRUE(a != b);
  EXPECT_TRUE(b != v);
  RegionArray c{rg(0), rg(1)};
  EXPECT_TRUE(c == iota_regions(2));
  RegionArray d(v.begin(), v.begin() + 5);
  EXPECT_TRUE(d == iota_regions(5));
  // Copies are independent.
  RegionArray e = a;
  e.erase(0, 150);
  expect_same(a, v);
  swap(d, e);
  EXPECT_EQ(d.size(), 150u);
  EXPECT_EQ(e.size(), 5u);
}

TEST(RegionArray, SplitsAtFrontMiddleAndBack) {
  constexpr std::size_t k = RegionArray::kChunk;
  std::vector<MemblockRegion> v;
  RegionArray a;
  // Descending: always at index 0.
  for (std::size_t i = 0; i < 5 * k; ++i) {
    a.insert(0, rg(10000 - i));
    v.insert(v.begin(), rg(10000 - i));
  }
  expect_same(a, v);
  EXPECT_GT(a.chunk_count(), 4u);
  // Ascending: always at the end.
  for (std::size_t i = 0; i < 5 * k; ++i) {
    a.push_back(rg(20000 + i));
    v.push_back(rg(20000 + i));
  }
  expect_same(a, v);
  // The middle of a full chunk, repeatedly.
  for (std::size_t i = 0; i < 3 * k; ++i) {
    const std::size_t at = v.size() / 2 + (i % 5);
    a.insert(at, rg(30000 + i));
    v.insert(v.begin() + static_cast<std::ptrdiff_t>(at), rg(30000 + i));
    ASSERT_EQ(a.check_structure(), "");
  }
  expect_same(a, v);
  // Chunk boundaries: insert exactly at every chunk start.
  for (std::size_t c = a.chunk_count(); c-- > 1;) {
    std::size_t at = 0;
    for (std::size_t j = 0; j < c; ++j) at += a.chunk_size(j);
    a.insert(at, rg(40000 + c));
    v.insert(v.begin() + static_cast<std::ptrdiff_t>(at), rg(40000 + c));
  }
  expect_same(a, v);
}

TEST(RegionArray, ErasesMergeChunks) {
  constexpr std::size_t k = RegionArray::kChunk;
  auto v = iota_regions(20 * k);
  RegionArray a = v;
  const std::size_t chunks = a.chunk_count();
  // Keep one region in three: chunks shrink below kMergeAt pairwise and merge.
  for (std::size_t i = 0; i < v.size(); i += 1) {
    const std::size_t last = std::min(v.size(), i + 2);
    a.erase(i, last);
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(i), v.begin() + static_cast<std::ptrdiff_t>(last));
    ASSERT_EQ(a.check_structure(), "") << i;
  }
  expect_same(a, v);
  EXPECT_LT(a.chunk_count(), chunks);
  // A range spanning many chunks, with partial chunks at both ends.
  a.erase(3, v.size() - 5);
  v.erase(v.begin() + 3, v.end() - 5);
  expect_same(a, v);
  // Everything.
  a.erase(0, a.size());
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.check_structure(), "");
  // Refill after emptying.
  a.push_back(rg(1));
  EXPECT_EQ(a.size(), 1u);
}

TEST(RegionArray, FirstEndingAbove) {
  for (std::size_t n : {1u, 2u, 3u, 63u, 64u, 65u, 200u, 1000u}) {
    RegionArray a = iota_regions(n);
    const auto v = iota_regions(n);
    for (std::uint64_t addr = 0; addr <= 0x1000 * (2 * n + 2); addr += 0x800) {
      const auto want = static_cast<std::size_t>(
          std::partition_point(v.begin(), v.end(), [&](const MemblockRegion& r) { return r.end() <= addr; }) -
          v.begin());
      ASSERT_EQ(a.first_ending_above(addr), want) << n << " " << addr;
    }
  }
}

TEST(RegionArray, BulkInsertAndIteratorArithmetic) {
  auto v = iota_regions(500);
  RegionArray a = v;
  const auto extra = iota_regions(40);
  a.insert(123, extra.begin(), extra.end());  // rebuild path
  v.insert(v.begin() + 123, extra.begin(), extra.end());
  expect_same(a, v);
  a.insert(7, extra.begin(), extra.begin() + 2);  // one-by-one path
  v.insert(v.begin() + 7, extra.begin(), extra.begin() + 2);
  expect_same(a, v);
  auto it = a.begin() + 300;
  EXPECT_EQ(*it, v[300]);
  EXPECT_EQ(it - a.begin(), 300);
  EXPECT_EQ(a.end() - it, static_cast<std::ptrdiff_t>(v.size()) - 300);
  it -= 250;
  EXPECT_EQ(*it, v[50]);
  EXPECT_EQ(it[10], v[60]);
  EXPECT_TRUE(a.begin() < it && it < a.end());
  RegionArray::const_iterator cit = it;
  EXPECT_EQ(cit->base, v[50].base);
  auto pos = a.erase(a.begin() + 10, a.begin() + 20);
  v.erase(v.begin() + 10, v.begin() + 20);
  EXPECT_EQ(*pos, v[10]);
  expect_same(a, v);
  a.resize(100);
  v.resize(100);
  expect_same(a, v);
  a.resize(130);
  v.resize(130);
  expect_same(a, v);
}

// Chunks keep their regions anywhere in their body: inserts and erases near
// either end of a chunk move the few regions on that side, a chunk with no
// room on the cheaper side is re-centred first.
TEST(RegionArray, BothEndsOfAChunk) {
  constexpr std::size_t k = RegionArray::kChunk;
  auto v = iota_regions(k);  // one full chunk
  RegionArray a = v;
  ASSERT_EQ(a.chunk_count(), 1u);
  // Erase near the front (head moves), then near the back (tail moves).
  for (std::size_t i = 0; i < 8; ++i) {
    a.erase(i % 3);
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(i % 3));
    expect_same(a, v);
    a.erase(a.size() - 1 - i % 2);
    v.erase(v.end() - 1 - static_cast<std::ptrdiff_t>(i % 2));
    expect_same(a, v);
  }
  ASSERT_EQ(a.chunk_count(), 1u);
  // Insert at the front until the head room is used up (then re-centre), and
  // at the back the same way, without splitting until the chunk is full.
  std::uint64_t x = 100000;
  while (a.size() < k) {
    a.insert(1, rg(x));
    v.insert(v.begin() + 1, rg(x++));
    expect_same(a, v);
    if (a.size() == k) break;
    a.insert(a.size() - 1, rg(x));
    v.insert(v.end() - 1, rg(x++));
    expect_same(a, v);
  }
  EXPECT_EQ(a.chunk_count(), 1u);
  // The full chunk splits; both halves have room at both ends afterwards.
  a.insert(k / 2, rg(x));
  v.insert(v.begin() + static_cast<std::ptrdiff_t>(k / 2), rg(x++));
  expect_same(a, v);
  EXPECT_EQ(a.chunk_count(), 2u);
  for (std::size_t i = 0; i < 3 * k; ++i) {  // descending inserts before a full first chunk
    a.insert(0, rg(x));
    v.insert(v.begin(), rg(x++));
    ASSERT_EQ(a.check_structure(), "") << i;
  }
  expect_same(a, v);
  // Merging a chunk whose regions sit at the top of its body into its
  // left neighbour, and a multi-chunk erase that keeps the tail in place.
  while (a.size() > 10) {
    const std::size_t at = a.size() / 3;
    a.erase(at, std::min(a.size(), at + 7));
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(at),
            v.begin() + static_cast<std::ptrdiff_t>(std::min(v.size(), at + 7)));
    ASSERT_EQ(a.check_structure(), "");
    ASSERT_TRUE(a == v);
  }
  expect_same(a, v);
}

TEST(RegionArray, InsertKeepAndEraseBetween) {
  constexpr std::size_t k = RegionArray::kChunk;
  for (std::size_t n : {std::size_t{1}, std::size_t{5}, k - 1, k, k + 1, 3 * k}) {
    for (std::size_t at : {std::size_t{0}, n / 2, n - 1}) {
      auto v = iota_regions(n);
      RegionArray a = v;
      auto it = a.iter_at(at);
      const MemblockRegion was = *it;
      it = a.insert_keep(it, rg(5000));
      v.insert(v.begin() + static_cast<std::ptrdiff_t>(at), rg(5000));
      expect_same(a, v);
      ASSERT_EQ(*it, was) << n << " " << at;
      ASSERT_EQ(it.index(), at + 1);
      --it;
      ASSERT_EQ(*it, rg(5000));
      // Erase [at, at + 3) with iterators, inside one chunk or across two.
      const std::size_t last = std::min(v.size(), at + 3);
      a.erase_between(a.iter_at(at), a.iter_at(last));
      v.erase(v.begin() + static_cast<std::ptrdiff_t>(at), v.begin() + static_cast<std::ptrdiff_t>(last));
      expect_same(a, v);
    }
  }
  // Across a chunk boundary and to the end.
  auto v = iota_regions(3 * k);
  RegionArray a = v;
  a.erase_between(a.iter_at(k - 2), a.iter_at(k + 2));
  v.erase(v.begin() + static_cast<std::ptrdiff_t>(k - 2), v.begin() + static_cast<std::ptrdiff_t>(k + 2));
  expect_same(a, v);
  a.erase_between(a.iter_at(v.size() - 4), a.end());
  v.erase(v.end() - 4, v.end());
  expect_same(a, v);
  a.erase_between(a.begin(), a.end());
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.check_structure(), "");
}

// lower_bound_end() (the non-const one starts next to where its previous call
// landed) equals the const search in walks up, down and at random, also when
// the array changed in between (a stale hint).
TEST(RegionArray, LowerBoundEndHint) {
  for (std::size_t n : {1u, 2u, 63u, 64u, 65u, 300u, 2000u}) {
    auto v = iota_regions(n);
    RegionArray a = v;
    const RegionArray& ca = a;
    auto check = [&](std::uint64_t addr) {
      const auto want = static_cast<std::size_t>(
          std::partition_point(v.begin(), v.end(), [&](const MemblockRegion& r) { return r.end() <= addr; }) -
          v.begin());
      const auto it = a.lower_bound_end(addr);
      ASSERT_EQ(it.index(), want) << n << " " << addr;
      ASSERT_EQ(ca.lower_bound_end(addr).index(), want);
      ASSERT_EQ(it.at_end(), want == v.size());
    };
    const std::uint64_t top = 0x1000 * (2 * n + 2);
    for (std::uint64_t addr = 0; addr <= top; addr += 0x800) check(addr);
    for (std::uint64_t addr = top + 0x800; addr >= 0x800;) check(addr -= 0x800);
    std::uint64_t x = 12345;
    for (int i = 0; i < 500; ++i) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      check((x >> 20) % (top + 0x1000));
      if (i % 7 == 3 && v.size() > 1) {  // mutate: drop a region, keep the hint
        const std::size_t at = (x >> 40) % v.size();
        a.erase(at);
        v.erase(v.begin() + static_cast<std::ptrdiff_t>(at));
      }
    }
    expect_same(a, v);
  }
}

// ---- property: RegionArray behaves as std::vector ------------------------------

struct RaOp {
  int kind;  // 0 insert, 1 erase range, 2 push_back, 3 overwrite, 4 bulk insert, 5 erase one, 6 copy+swap, 7 assign,
            // 8 insert_keep, 9 erase_between
  std::size_t pos, len;
  std::uint64_t val;
};

rc::Gen<RaOp> gen_ra_op() {
  return rc::gen::apply(
      [](int kind, std::size_t pos, std::size_t len, std::uint64_t val) { return RaOp{kind, pos, len, val}; },
      rc::gen::weightedOneOf<int>({{6, rc::gen::just(0)},
                                   {3, rc::gen::just(1)},
                                   {3, rc::gen::just(2)},
                                   {2, rc::gen::just(3)},
                                   {1, rc::gen::just(4)},
                                   {3, rc::gen::just(5)},
                                   {1, rc::gen::just(6)},
                                   {1, rc::gen::just(7)},
                                   {3, rc::gen::just(8)},
                                   {2, rc::gen::just(9)}}),
      rc::gen::inRange<std::size_t>(0, 1u << 20), rc::gen::inRange<std::size_t>(0, 300),
      rc::gen::arbitrary<std::uint64_t>());
}

TEST(RegionArray, MatchesVector) {
  testutil::rc_run_property("RegionArray.MatchesVector", "seed=5772156649 max_success=300 max_size=200", [] {
    // Start from a random size so that multi-chunk arrays are common.
    const auto n0 = *rc::gen::inRange<std::size_t>(0, 700);
    const auto ops = *rc::gen::container<std::vector<RaOp>>(gen_ra_op());
    std::vector<MemblockRegion> v = iota_regions(n0);
    RegionArray a = v;
    auto val = [](std::uint64_t x) {
      return MemblockRegion{x & 0xffffff, (x >> 24) & 0xffff, static_cast<std::uint32_t>(x >> 40) & 0x7f,
                            static_cast<int>(x >> 48) % 65};
    };
    for (const RaOp& op : ops) {
      const std::size_t n = v.size();
      switch (op.kind) {
        case 0: {
          const std::size_t at = op.pos % (n + 1);
          // Repeat to fill chunks quickly.
          for (std::size_t r = 0; r < 1 + op.len % 40; ++r) {
            a.insert(at, val(op.val + r));
            v.insert(v.begin() + static_cast<std::ptrdiff_t>(at), val(op.val + r));
          }
          break;
        }
        case 1: {
          const std::size_t first = n ? op.pos % n : 0;
          const std::size_t last = std::min(n, first + op.len);
          a.erase(first, last);
          v.erase(v.begin() + static_cast<std::ptrdiff_t>(first), v.begin() + static_cast<std::ptrdiff_t>(last));
          break;
        }
        case 2:
          for (std::size_t r = 0; r < 1 + op.len % 100; ++r) {
            a.push_back(val(op.val ^ r));
            v.push_back(val(op.val ^ r));
          }
          break;
        case 3:
          if (n) {
            a[op.pos % n] = val(op.val);
            v[op.pos % n] = val(op.val);
          }
          break;
        case 4: {
          const std::size_t at = op.pos % (n + 1);
          std::vector<MemblockRegion> extra;
          for (std::size_t r = 0; r < op.len; ++r) extra.push_back(val(op.val + 3 * r));
          a.insert(at, extra.begin(), extra.end());
          v.insert(v.begin() + static_cast<std::ptrdiff_t>(at), extra.begin(), extra.end());
          break;
        }
        case 5:
          if (n) {
            a.erase(op.pos % n);
            v.erase(v.begin() + static_cast<std::ptrdiff_t>(op.pos % n));
          }
          break;
        case 6: {
          RegionArray copy = a;
          RegionArray other;
          other.swap(copy);
          a = std::move(other);
          break;
        }
        case 7:
          if (op.len % 8 == 0) {
            v.resize(op.len * 3);
            a = v;
          }
          break;
        case 8:
          if (n) {
            // Repeated before the same element, which the iterator follows.
            const std::size_t at = op.pos % n;
            auto it = a.iter_at(at);
            const MemblockRegion was = *it;
            for (std::size_t r = 0; r < 1 + op.len % 40; ++r) {
              it = a.insert_keep(it, val(op.val + r));
              v.insert(v.begin() + static_cast<std::ptrdiff_t>(at + r), val(op.val + r));
              RC_ASSERT(*it == was);
              RC_ASSERT(it.index() == at + r + 1);
            }
          }
          break;
        case 9: {
          const std::size_t first = n ? op.pos % n : 0;
          const std::size_t last = std::min(n, first + op.len % 80);
          a.erase_between(a.iter_at(first), a.iter_at(last));
          v.erase(v.begin() + static_cast<std::ptrdiff_t>(first), v.begin() + static_cast<std::ptrdiff_t>(last));
          break;
        }
      }
      const std::string s = a.check_structure();
      if (!s.empty()) RC_FAIL("structure after op " + std::to_string(op.kind) + ": " + s);
      RC_ASSERT(a.size() == v.size());
      RC_ASSERT(a == v);
      RC_ASSERT(std::equal(a.begin(), a.end(), v.begin(), v.end()));
      if (!v.empty()) {
        const std::size_t i = op.val % v.size();
        RC_ASSERT(a[i] == v[i]);
        RC_ASSERT(*(a.begin() + static_cast<std::ptrdiff_t>(i)) == v[i]);
        RC_ASSERT(*std::prev(a.end()) == v.back());
        RC_ASSERT(a.front() == v.front());
      }
    }
    // Reverse iteration and search on a sorted copy of the final contents.
    RC_ASSERT(std::equal(std::make_reverse_iterator(a.end()), std::make_reverse_iterator(a.begin()), v.rbegin(),
                         v.rend()));
    std::vector<MemblockRegion> sorted = iota_regions(v.size());
    RegionArray sa = v;
    for (std::size_t i = 0; i < v.size(); ++i) sa[i] = sorted[i];
    for (std::uint64_t addr : {std::uint64_t{0}, std::uint64_t{0x1000}, std::uint64_t{0x2fff},
                               0x1000 * v.size(), 0x2000 * v.size(), 0x2000 * v.size() + 0x1000}) {
      const auto want = static_cast<std::size_t>(
          std::partition_point(sorted.begin(), sorted.end(), [&](const MemblockRegion& r) { return r.end() <= addr; }) -
          sorted.begin());
      RC_ASSERT(sa.first_ending_above(addr) == want);
      RC_ASSERT(sa.lower_bound_end(addr).index() == want);
    }
  });
}

}  // namespace
}  // namespace khospec::model
