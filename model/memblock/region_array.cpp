// RegionArray (see region_array.hpp): chunked storage of a memblock region
// array.
#include "model/memblock/region_array.hpp"

#include <stdexcept>

namespace khospec::model {

namespace {
constexpr std::size_t kBytes = sizeof(MemblockRegion);
}

MemblockRegion& RegionArray::at(std::size_t i) {
  if (i >= size_) throw std::out_of_range("RegionArray::at");
  return (*this)[i];
}

const MemblockRegion& RegionArray::at(std::size_t i) const {
  if (i >= size_) throw std::out_of_range("RegionArray::at");
  return (*this)[i];
}

std::uint32_t RegionArray::new_slot() {
  if (!free_.empty()) {
    const std::uint32_t s = free_.back();
    free_.pop_back();
    return s;
  }
  const auto s = static_cast<std::uint32_t>(pool_.size() / kChunk);
  pool_.resize(pool_.size() + kChunk);
  return s;
}

void RegionArray::free_slot(std::uint32_t s) { free_.push_back(s); }

void RegionArray::add_chunk(std::size_t c) {
  const std::uint32_t s = new_slot();
  chunks_.insert(chunks_.begin() + static_cast<std::ptrdiff_t>(c), Chunk{s, 0, 0});
  start_.insert(start_.begin() + static_cast<std::ptrdiff_t>(c), 0);
}

void RegionArray::drop_chunk(std::size_t c) {
  free_slot(chunks_[c].slot);
  chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(c));
  start_.erase(start_.begin() + static_cast<std::ptrdiff_t>(c));
}

void RegionArray::restart_from(std::size_t c) {
  for (std::size_t k = c; k < chunks_.size(); ++k)
    start_[k] = k ? start_[k - 1] + chunks_[k - 1].cnt : 0;
}

// Merges neighbouring pairs (k, k+1), k in [lo, hi], that fit in kMergeAt
// regions. start_ of the surviving chunks is unchanged by a merge.
void RegionArray::sweep(std::size_t lo, std::size_t hi) {
  if (chunks_.size() < 2) return;
  std::size_t k = lo;
  while (k <= hi && k + 1 < chunks_.size()) {
    if (chunks_[k].cnt + chunks_[k + 1].cnt <= kMergeAt) {
      if (chunks_[k].off + chunks_[k].cnt + chunks_[k + 1].cnt > kChunk) {  // no room behind k
        std::memmove(static_cast<void*>(slot_data(k) - chunks_[k].off), slot_data(k),
                     chunks_[k].cnt * kBytes);
        chunks_[k].off = 0;
      }
      std::memcpy(static_cast<void*>(slot_data(k) + chunks_[k].cnt), slot_data(k + 1),
                  chunks_[k + 1].cnt * kBytes);
      chunks_[k].cnt += chunks_[k + 1].cnt;
      drop_chunk(k + 1);
      if (hi > k) --hi;
    } else {
      ++k;
    }
  }
}

void RegionArray::clear() {
  pool_.clear();
  chunks_.clear();
  start_.clear();
  free_.clear();
  size_ = 0;
}

void RegionArray::push_back(const MemblockRegion& r) {
  if (!chunks_.empty() && chunks_.back().off + chunks_.back().cnt < kChunk) {
    Chunk& ch = chunks_.back();
    pool_[std::size_t{ch.slot} * kChunk + ch.off + ch.cnt] = r;
    ++ch.cnt;
    ++size_;
    return;
  }
  insert(size_, r);
}

void RegionArray::insert(std::size_t i, const MemblockRegion& r) {
  if (chunks_.empty()) {
    add_chunk(0);
    slot_data(0)[0] = r;
    chunks_[0].cnt = 1;
    size_ = 1;
    return;
  }
  if (i >= size_) {
    const std::size_t c = chunks_.size() - 1;
    insert_at(c, chunks_[c].cnt, r);
    return;
  }
  const std::size_t c = chunk_of(i);
  insert_at(c, static_cast<std::uint32_t>(i - start_[c]), r);
}

void RegionArray::insert_at(std::size_t c, std::uint32_t off, const MemblockRegion& r_in) {
  const MemblockRegion r = r_in;  // r_in may live in pool_, which can move
  if (chunks_[c].cnt == kChunk) {
    if (off == kChunk && c + 1 == chunks_.size()) {  // after a full last chunk: a new chunk
      add_chunk(c + 1);
      start_[c + 1] = static_cast<std::uint32_t>(size_);
      ++c;
      off = 0;
    } else if (off == kChunk) {  // after a full chunk: the front of the next one
      ++c;
      off = 0;
    }
    if (chunks_[c].cnt < kChunk) {
      // room now
    } else if (off == 0 && c > 0 && chunks_[c - 1].cnt < kChunk) {  // end of the previous chunk
      --c;
      off = chunks_[c].cnt;
    } else if (off == 0 && c == 0) {  // before a full first chunk: a new chunk
      add_chunk(0);
      start_[0] = 0;
      chunks_[0].off = kChunk - 1;  // filled from the top: the next inserts come below
    } else {  // split in halves, merge a half with a small neighbour, locate again
      // A full chunk has off == 0; the upper half goes to the middle of a
      // new body, so that either end of it has room.
      const std::size_t i = start_[c] + off;
      constexpr std::uint32_t h = kChunk / 2;
      add_chunk(c + 1);
      chunks_[c + 1].off = h / 2;
      std::memcpy(static_cast<void*>(slot_data(c + 1)), slot_data(c) + h, (kChunk - h) * kBytes);
      chunks_[c].cnt = h;
      chunks_[c + 1].cnt = kChunk - h;
      start_[c + 1] = start_[c] + h;
      sweep(c ? c - 1 : 0, c + 1);
      if (i == size_) {
        c = chunks_.size() - 1;
        off = chunks_[c].cnt;
      } else {
        c = chunk_of(i);
        off = static_cast<std::uint32_t>(i - start_[c]);
      }
    }
  }
  insert_in(c, off, r);
}

void RegionArray::erase_fixup(std::size_t c) {
  if (chunks_[c].cnt == 0) {
    drop_chunk(c);
    restart_from(c);
    if (c > 0) sweep(c - 1, c - 1);
    return;
  }
  sweep(c ? c - 1 : 0, c);
}

void RegionArray::erase(std::size_t first, std::size_t last) {
  if (last > size_) last = size_;
  if (first >= last) return;
  const std::size_t n = last - first;
  if (n == size_) {
    clear();
    return;
  }
  const std::size_t ca = chunk_of(first);
  const auto oa = static_cast<std::uint32_t>(first - start_[ca]);
  if (oa + n <= chunks_[ca].cnt) {
    erase_in(ca, oa, static_cast<std::uint32_t>(n));
    return;
  }
  const std::size_t cb = chunk_of(last - 1);
  const auto ob = static_cast<std::uint32_t>(last - start_[cb]);  // exclusive, in cb
  size_ -= n;
  // Keep the head of ca and the tail of cb (which stays where it is in its
  // body); drop every chunk in between.
  chunks_[ca].cnt = oa;
  chunks_[cb].off += ob;
  chunks_[cb].cnt -= ob;
  for (std::size_t k = ca + 1; k < cb; ++k) free_slot(chunks_[k].slot);
  chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(ca) + 1,
                chunks_.begin() + static_cast<std::ptrdiff_t>(cb));
  start_.erase(start_.begin() + static_cast<std::ptrdiff_t>(ca) + 1,
               start_.begin() + static_cast<std::ptrdiff_t>(cb));
  // Now the tail of cb is chunk ca + 1.
  if (chunks_[ca + 1].cnt == 0) drop_chunk(ca + 1);
  if (chunks_[ca].cnt == 0) drop_chunk(ca);
  restart_from(ca);
  const std::size_t lo = ca ? ca - 1 : 0;
  sweep(lo, lo + 2);
}

void RegionArray::resize(std::size_t n) {
  if (n < size_) {
    erase(n, size_);
    return;
  }
  while (size_ < n) push_back(MemblockRegion{});
}

void RegionArray::swap(RegionArray& o) noexcept {
  pool_.swap(o.pool_);
  chunks_.swap(o.chunks_);
  start_.swap(o.start_);
  free_.swap(o.free_);
  std::swap(size_, o.size_);
  std::swap(hint_c_, o.hint_c_);
  std::swap(hint_off_, o.hint_off_);
}

std::pair<std::size_t, std::size_t> RegionArray::find_end_above(phys_addr_t addr) const {
  const std::size_t nc = chunks_.size();
  if (nc == 0) return {0, 0};
  const Chunk* ch = chunks_.data();
  const MemblockRegion* pool = pool_.data();
  auto data = [&](std::size_t c) { return pool + std::size_t{ch[c].slot} * kChunk + ch[c].off; };
  // First chunk whose last region ends above addr. A few chunks (arrays of
  // up to a few hundred regions) are scanned, which also makes the low end
  // of the array O(1); more are binary searched.
  std::size_t c = 0;
  if (nc <= kScanChunks) {
    while (data(c)[ch[c].cnt - 1].end() <= addr)
      if (++c == nc) return {nc, 0};
  } else {
    if (data(0)[0].end() > addr) return {0, 0};
    if (data(nc - 1)[ch[nc - 1].cnt - 1].end() <= addr) return {nc, 0};
    std::size_t len = nc;
    while (len > 0) {
      const std::size_t half = len / 2;
      const std::size_t mid = c + half;
      if (data(mid)[ch[mid].cnt - 1].end() <= addr) {
        c = mid + 1;
        len -= half + 1;
      } else {
        len = half;
      }
    }
  }
  const MemblockRegion* d = data(c);
  const std::size_t n = ch[c].cnt;
  if (d[0].end() > addr) return {c, 0};
  // Invariant: base->end() <= addr < base[len].end().
  const MemblockRegion* base = d;
  std::size_t len = n - 1;
  while (len > 1) {
    const std::size_t half = len / 2;
    base = base[half].end() <= addr ? base + half : base;
    len -= half;
  }
  return {c, static_cast<std::size_t>(base - d) + 1};
}

bool operator==(const RegionArray& a, const RegionArray& b) {
  if (a.size() != b.size()) return false;
  if (a.chunks_.size() == 1 && b.chunks_.size() == 1)
    return std::equal(a.slot_data(0), a.slot_data(0) + a.size(), b.slot_data(0));
  return std::equal(a.begin(), a.end(), b.begin());
}

bool operator==(const RegionArray& a, const std::vector<MemblockRegion>& b) {
  if (a.size() != b.size()) return false;
  return std::equal(a.begin(), a.end(), b.begin());
}

std::string RegionArray::check_structure() const {
  const std::size_t nc = chunks_.size();
  if (start_.size() != nc) return "start_ and chunks_ differ in length";
  if (pool_.size() % kChunk) return "pool size is not a multiple of kChunk";
  const std::size_t slots = pool_.size() / kChunk;
  if (nc + free_.size() != slots) return "slots in use + free != pool slots";
  std::vector<bool> seen(slots);
  std::size_t sum = 0;
  for (std::size_t c = 0; c < nc; ++c) {
    const Chunk& ch = chunks_[c];
    if (ch.slot >= slots || seen[ch.slot]) return "chunk " + std::to_string(c) + ": bad or shared slot";
    seen[ch.slot] = true;
    if (ch.cnt == 0 || ch.cnt > kChunk) return "chunk " + std::to_string(c) + ": count " + std::to_string(ch.cnt);
    if (ch.off > kChunk - ch.cnt)
      return "chunk " + std::to_string(c) + ": offset " + std::to_string(ch.off) + " + count " + std::to_string(ch.cnt) + " > " + std::to_string(kChunk);
    if (start_[c] != sum) return "chunk " + std::to_string(c) + ": start " + std::to_string(start_[c]) + " != " + std::to_string(sum);
    if (c + 1 < nc && ch.cnt + chunks_[c + 1].cnt <= kMergeAt)
      return "chunks " + std::to_string(c) + " and " + std::to_string(c + 1) + " should have been merged";
    sum += ch.cnt;
  }
  for (std::uint32_t s : free_)
    if (s >= slots || seen[s]) return "free slot in use";
  if (sum != size_) return "counts sum to " + std::to_string(sum) + ", size " + std::to_string(size_);
  return {};
}

}  // namespace khospec::model
