// RegionArray: the storage of a memblock region array (MemblockType::regions).
//
// Observably it is the kernel's array: a sorted sequence of cnt regions with
// index access, and it compares equal to any std::vector<MemblockRegion>
// holding the same regions. Internally it is a sequence of chunks of at most
// kChunk regions each (a one-level B-tree / "tiered vector"):
//   - chunk bodies live in one pool (`pool_`, kChunk slots per chunk), so
//     copying a RegionArray is a plain copy of three vectors;
//   - `chunks_` lists the chunks in address order ({pool slot, count,
//     offset of the first region in the body}) and
//     `start_[c]` is the index of chunk c's first region, so operator[] and
//     "first region whose end lies above addr" are O(log n) binary searches;
//   - a chunk's regions sit anywhere in its slot (`off`), so insert/erase at
//     offset o of a chunk move the shorter side, min(o, cnt - o) <= kChunk/2
//     regions (now and then the whole chunk, to re-centre it in its body),
//     plus O(n / kChunk) chunk bookkeeping, instead of the kernel's
//     memmove of the whole tail (mm/memblock.c memblock_insert_region() /
//     memblock_remove_region()); near either end of a small array that is a
//     handful of regions where the kernel moves all of them;
//   - iterators walk chunk by chunk: O(1) amortized ++/--.
// Chunks split when full; after an erase a chunk is merged with a neighbour
// when the two hold at most 3/4 kChunk regions together, so there are at most
// about 2n / (3/4 kChunk) + 1 chunks. Up to kChunk regions (every array of a
// booting kernel with the default 128-entry arrays, give or take) there is a
// single chunk and every operation is a flat-array operation.
//
// References and iterators are invalidated by any insert/erase (as for
// std::vector).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace khospec::model {

using phys_addr_t = std::uint64_t;

struct MemblockRegion {
  phys_addr_t base = 0;
  phys_addr_t size = 0;
  std::uint32_t flags = 0;  // MemblockFlags
  int nid = 0;
  phys_addr_t end() const { return base + size; }
  bool operator==(const MemblockRegion&) const = default;
};

class RegionArray {
 public:
  static constexpr std::uint32_t kChunk = 64;
  // Two neighbouring chunks are merged when they fit in this many regions.
  static constexpr std::uint32_t kMergeAt = kChunk * 3 / 4;
  // Up to this many chunks, searches scan the chunks instead of bisecting.
  static constexpr std::size_t kScanChunks = 4;

  using value_type = MemblockRegion;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = MemblockRegion&;
  using const_reference = const MemblockRegion&;
  using pointer = MemblockRegion*;
  using const_pointer = const MemblockRegion*;

  template <bool Const>
  class Iter {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using iterator_concept = std::random_access_iterator_tag;
    using value_type = MemblockRegion;
    using difference_type = std::ptrdiff_t;
    using pointer = std::conditional_t<Const, const MemblockRegion*, MemblockRegion*>;
    using reference = std::conditional_t<Const, const MemblockRegion&, MemblockRegion&>;
    using Owner = std::conditional_t<Const, const RegionArray, RegionArray>;

    Iter() = default;
    Iter(Owner* a, std::size_t c, std::size_t off) : a_(a) { load(c, off); }
    template <bool C = Const, class = std::enable_if_t<C>>
    Iter(const Iter<false>& o) : a_(o.a_), c_(o.c_), p_(o.p_), b_(o.b_), e_(o.e_) {}  // NOLINT: to const

    reference operator*() const { return *p_; }
    pointer operator->() const { return p_; }
    reference operator[](difference_type n) const { return *(*this + n); }

    Iter& operator++() {
      if (++p_ == e_) load(c_ + 1, 0);
      return *this;
    }
    Iter operator++(int) {
      Iter t = *this;
      ++*this;
      return t;
    }
    Iter& operator--() {
      if (p_ == b_) {
        load(c_ - 1, 0);
        p_ = e_ - 1;
      } else {
        --p_;
      }
      return *this;
    }
    Iter operator--(int) {
      Iter t = *this;
      --*this;
      return t;
    }
    Iter& operator+=(difference_type n) {
      if (p_ && n < e_ - p_ && -n <= p_ - b_) {
        p_ += n;
        return *this;
      }
      const auto i = static_cast<std::size_t>(static_cast<difference_type>(index()) + n);
      if (i >= a_->size_) {
        load(a_->chunks_.size(), 0);
      } else {
        const std::size_t c = a_->chunk_of(i);
        load(c, i - a_->start_[c]);
      }
      return *this;
    }
    Iter& operator-=(difference_type n) { return *this += -n; }
    friend Iter operator+(Iter it, difference_type n) { return it += n; }
    friend Iter operator+(difference_type n, Iter it) { return it += n; }
    friend Iter operator-(Iter it, difference_type n) { return it += -n; }
    friend difference_type operator-(const Iter& a, const Iter& b) {
      return static_cast<difference_type>(a.index()) - static_cast<difference_type>(b.index());
    }
    friend bool operator==(const Iter& a, const Iter& b) { return a.c_ == b.c_ && a.p_ == b.p_; }
    friend auto operator<=>(const Iter& a, const Iter& b) {
      return a.c_ != b.c_ ? a.c_ <=> b.c_ : a.offset() <=> b.offset();
    }

    // Index of the element in the array (size() for end()).
    std::size_t index() const { return p_ ? a_->start_[c_] + offset() : a_->size_; }
    // == end() / == begin() without constructing them.
    bool at_end() const { return p_ == nullptr; }
    bool at_begin() const { return c_ == 0 && p_ == b_; }

   private:
    friend class RegionArray;
    friend class Iter<!Const>;
    std::size_t offset() const { return static_cast<std::size_t>(p_ - b_); }
    // Points at offset `off` of chunk c, or at end() when c is past the last.
    [[gnu::always_inline]] void load(std::size_t c, std::size_t off) {
      c_ = c;
      if (c < a_->chunks_.size()) {
        b_ = a_->slot_data(c);
        e_ = b_ + a_->chunks_[c].cnt;
        p_ = b_ + off;
      } else {
        c_ = a_->chunks_.size();
        p_ = b_ = e_ = nullptr;
      }
    }
    Owner* a_ = nullptr;
    std::size_t c_ = 0;  // chunk (chunks_.size() at end())
    pointer p_ = nullptr;  // the element (nullptr at end())
    pointer b_ = nullptr;  // chunk c_'s regions [b_, e_)
    pointer e_ = nullptr;
  };
  using iterator = Iter<false>;
  using const_iterator = Iter<true>;

  RegionArray() = default;
  // Copies keep headroom in the pool so that the copy's first inserts do not
  // reallocate (and copy) every chunk body.
  RegionArray(const RegionArray& o)
      : chunks_(o.chunks_), start_(o.start_), free_(o.free_), size_(o.size_), hint_c_(o.hint_c_),
        hint_off_(o.hint_off_) {
    pool_.reserve(o.pool_.size() + o.pool_.size() / 4 + 4 * kChunk);
    pool_.assign(o.pool_.begin(), o.pool_.end());
  }
  RegionArray(RegionArray&&) noexcept = default;
  RegionArray& operator=(const RegionArray& o) {
    if (this != &o) {
      RegionArray t(o);
      swap(t);
    }
    return *this;
  }
  RegionArray& operator=(RegionArray&&) noexcept = default;
  RegionArray(std::initializer_list<MemblockRegion> il) { assign(il.begin(), il.end()); }
  RegionArray(const std::vector<MemblockRegion>& v) { assign(v.begin(), v.end()); }  // NOLINT
  template <class It, class = typename std::iterator_traits<It>::iterator_category>
  RegionArray(It first, It last) {
    assign(first, last);
  }
  RegionArray& operator=(const std::vector<MemblockRegion>& v) {
    assign(v.begin(), v.end());
    return *this;
  }
  RegionArray& operator=(std::initializer_list<MemblockRegion> il) {
    assign(il.begin(), il.end());
    return *this;
  }

  // ---- size and access ------------------------------------------------------
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  MemblockRegion& operator[](std::size_t i) {
    const std::size_t c = chunk_of(i);
    return slot_data(c)[i - start_[c]];
  }
  const MemblockRegion& operator[](std::size_t i) const {
    const std::size_t c = chunk_of(i);
    return slot_data(c)[i - start_[c]];
  }
  // Bounds-checked access (std::out_of_range), like std::vector::at().
  MemblockRegion& at(std::size_t i);
  const MemblockRegion& at(std::size_t i) const;
  MemblockRegion& front() { return slot_data(0)[0]; }
  const MemblockRegion& front() const { return slot_data(0)[0]; }
  MemblockRegion& back() { return slot_data(chunks_.size() - 1)[chunks_.back().cnt - 1]; }
  const MemblockRegion& back() const { return slot_data(chunks_.size() - 1)[chunks_.back().cnt - 1]; }

  iterator begin() { return {this, 0, 0}; }
  iterator end() { return {this, chunks_.size(), chunks_.size()}; }
  const_iterator begin() const { return {this, 0, 0}; }
  const_iterator end() const { return {this, chunks_.size(), chunks_.size()}; }
  const_iterator cbegin() const { return begin(); }
  const_iterator cend() const { return end(); }
  iterator iter_at(std::size_t i) {
    if (i >= size_) return end();
    const std::size_t c = chunk_of(i);
    return {this, c, i - start_[c]};
  }
  const_iterator iter_at(std::size_t i) const {
    if (i >= size_) return end();
    const std::size_t c = chunk_of(i);
    return {this, c, i - start_[c]};
  }

  // ---- search (the array must be sorted and disjoint) -------------------------
  // Index of the first region whose end lies above `addr` (size() if none).
  // Region ends are strictly increasing in a sorted, disjoint array, so this
  // is where mm/memblock.c's scans from index 0 stop `continue`-ing.
  // O(1) when addr lies below the first region's end or at/above the last
  // one's, else O(log n).
  std::size_t first_ending_above(phys_addr_t addr) const {
    const auto [c, off] = find_end_above(addr);
    return c < chunks_.size() ? start_[c] + off : size_;
  }
  // The same as an iterator (end() if none). The non-const form, used by
  // the mutating memblock calls, first tries next to where its previous call
  // landed (the same, the previous or the next region: a run of calls that
  // walks the array up or down), which costs a few compares instead of a
  // search.
  iterator lower_bound_end(phys_addr_t addr) {
    std::size_t c = 0, off = 0;
    if (!near_hint(addr, c, off)) std::tie(c, off) = find_end_above(addr);
    hint_c_ = static_cast<std::uint32_t>(c);
    hint_off_ = static_cast<std::uint32_t>(off);
    return {this, c, off};
  }
  const_iterator lower_bound_end(phys_addr_t addr) const {
    const auto [c, off] = find_end_above(addr);
    return {this, c, off};
  }

  // ---- modification -----------------------------------------------------------
  void clear();
  void push_back(const MemblockRegion& r);
  // Inserts r before index i (i <= size()).
  void insert(std::size_t i, const MemblockRegion& r);
  // Inserts [first, last) (forward iterators) before index i: one insert per
  // element while that is cheaper than rebuilding, else one O(n + k) rebuild.
  template <class It>
  void insert(std::size_t i, It first, It last) {
    if (i > size_) i = size_;
    const auto k = static_cast<std::size_t>(std::distance(first, last));
    if (k * (kChunk + chunks_.size()) <= size_ + k) {
      for (; first != last; ++first) insert(i++, *first);
      return;
    }
    RegionArray out;
    auto it = begin();
    for (std::size_t j = 0; j < i; ++j, ++it) out.push_back(*it);
    for (; first != last; ++first) out.push_back(*first);
    for (; it != end(); ++it) out.push_back(*it);
    swap(out);
  }
  iterator insert(const_iterator pos, const MemblockRegion& r) {
    const std::size_t i = pos.index();
    insert_before(pos, r);
    return iter_at(i);
  }
  // Inserts r before pos (not end()) and returns an iterator to the element
  // pos pointed to, now one further on. No index lookup unless pos's chunk
  // is full (then it splits).
  iterator insert_keep(iterator pos, const MemblockRegion& r) {
    const Chunk& ch = chunks_[pos.c_];
    if (ch.cnt < kChunk) {
      const auto o = static_cast<std::uint32_t>(pos.offset());
      insert_in(pos.c_, o, r);
      return {this, pos.c_, std::size_t{o} + 1};
    }
    const std::size_t i = pos.index();
    insert_at(pos.c_, static_cast<std::uint32_t>(pos.offset()), r);
    return iter_at(i + 1);
  }
  // insert(pos, r) without the returned iterator: no index lookup at all.
  void insert_before(const_iterator pos, const MemblockRegion& r) {
    if (!pos.p_ || chunks_.empty()) {
      insert(size_, r);
      return;
    }
    if (chunks_[pos.c_].cnt < kChunk) {
      insert_in(pos.c_, static_cast<std::uint32_t>(pos.offset()), r);
      return;
    }
    insert_at(pos.c_, static_cast<std::uint32_t>(pos.offset()), r);
  }
  // Removes the regions [first, last).
  void erase(std::size_t first, std::size_t last);
  void erase(std::size_t i) { erase(i, i + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    const std::size_t i = first.index();
    erase(i, last.index());
    return iter_at(i);
  }
  iterator erase(const_iterator pos) {
    const std::size_t i = pos.index();
    erase_one(pos);
    return iter_at(i);
  }
  // erase(pos) without the returned iterator: no index lookup at all.
  void erase_one(const_iterator pos) { erase_in(pos.c_, static_cast<std::uint32_t>(pos.offset()), 1); }
  // erase(first, last) without the returned iterator: no index lookup when
  // [first, last) lies in one chunk.
  void erase_between(const_iterator first, const_iterator last) {
    if (first == last) return;
    if (first.c_ == last.c_) {
      erase_in(first.c_, static_cast<std::uint32_t>(first.offset()),
               static_cast<std::uint32_t>(last.p_ - first.p_));
      return;
    }
    erase(first.index(), last.index());
  }
  void resize(std::size_t n);
  // Room for n regions appended with push_back() without reallocating.
  void reserve(std::size_t n) {
    const std::size_t chunks = (n + kChunk - 1) / kChunk + 1;
    pool_.reserve(chunks * kChunk);
    chunks_.reserve(chunks);
    start_.reserve(chunks);
  }
  template <class It>
  void assign(It first, It last) {
    clear();
    for (; first != last; ++first) push_back(*first);
  }
  void assign(std::initializer_list<MemblockRegion> il) { assign(il.begin(), il.end()); }
  void swap(RegionArray& o) noexcept;

  // ---- conversion and comparison ----------------------------------------------
  std::vector<MemblockRegion> to_vector() const { return {begin(), end()}; }
  operator std::vector<MemblockRegion>() const { return to_vector(); }  // NOLINT
  friend bool operator==(const RegionArray& a, const RegionArray& b);
  friend bool operator==(const RegionArray& a, const std::vector<MemblockRegion>& b);

  // ---- introspection (tests) ----------------------------------------------------
  std::size_t chunk_count() const { return chunks_.size(); }
  std::size_t chunk_size(std::size_t c) const { return chunks_[c].cnt; }
  // Internal consistency: counts, starts, chunk bounds, the merge bound.
  // Empty string when consistent, else what is wrong.
  std::string check_structure() const;

 private:
  struct Chunk {
    std::uint32_t slot;  // chunk body at pool_[slot * kChunk]
    std::uint32_t cnt;   // regions in use, 1..kChunk
    std::uint32_t off;   // they are body[off, off + cnt): room on both sides
  };

  // Chunk c's first region.
  MemblockRegion* slot_data(std::size_t c) {
    return pool_.data() + std::size_t{chunks_[c].slot} * kChunk + chunks_[c].off;
  }
  const MemblockRegion* slot_data(std::size_t c) const {
    return pool_.data() + std::size_t{chunks_[c].slot} * kChunk + chunks_[c].off;
  }
  // The chunk holding index i (i < size()): last c with start_[c] <= i.
  std::size_t chunk_of(std::size_t i) const {
    const std::size_t nc = chunks_.size();
    if (nc == 1) return 0;
    const std::uint32_t* base = start_.data();
    std::size_t len = nc;
    while (len > 1) {
      const std::size_t half = len / 2;
      base = base[half] <= i ? base + half : base;
      len -= half;
    }
    return static_cast<std::size_t>(base - start_.data());
  }
  // (chunk, offset) of the first region whose end lies above addr;
  // (chunks_.size(), 0) if none.
  std::pair<std::size_t, std::size_t> find_end_above(phys_addr_t addr) const;
  // find_end_above() when the answer is the hint's region or one next to it
  // (checked against its neighbours, so a stale hint only misses).
  bool near_hint(phys_addr_t addr, std::size_t& rc, std::size_t& roff) const {
    const std::size_t c = hint_c_;
    if (c >= chunks_.size()) return false;
    const MemblockRegion* d = slot_data(c);
    const std::size_t n = chunks_[c].cnt;
    std::size_t o = hint_off_ < n ? hint_off_ : n - 1;
    if (d[o].end() <= addr) {  // the answer lies above o
      if (o + 1 >= n || d[o + 1].end() <= addr) return false;
      ++o;
    } else if (o > 0 && d[o - 1].end() > addr) {  // ... below o
      --o;
      if (o > 0 && d[o - 1].end() > addr) return false;
    }
    if (o == 0 && c > 0 && slot_data(c - 1)[chunks_[c - 1].cnt - 1].end() > addr) return false;
    rc = c;
    roff = o;
    return true;
  }
  // Inserts r at offset off of chunk c (off == cnt: after its last region).
  void insert_at(std::size_t c, std::uint32_t off, const MemblockRegion& r);
  // The same into a chunk that is not full: moves the shorter side.
  void insert_in(std::size_t c, std::uint32_t off, MemblockRegion r) {  // r may alias the chunk
    Chunk& ch = chunks_[c];
    MemblockRegion* d = slot_data(c);
    const bool head = off < ch.cnt - off;  // fewer regions in front of off
    if (head ? ch.off == 0 : ch.off + ch.cnt == kChunk) {
      // No room on the cheaper side: move the whole chunk half-way into the
      // room on the other side, so that the next inserts there are cheap.
      const std::uint32_t room = kChunk - ch.cnt;
      const std::uint32_t to = head ? room - room / 2 : room / 2;
      MemblockRegion* nd = d - ch.off + to;
      std::memmove(static_cast<void*>(nd), d, ch.cnt * sizeof(MemblockRegion));
      ch.off = to;
      d = nd;
    }
    if (head) {
      std::memmove(static_cast<void*>(d - 1), d, off * sizeof(MemblockRegion));
      --ch.off;
      (d - 1)[off] = r;
    } else {
      std::memmove(static_cast<void*>(d + off + 1), d + off, (ch.cnt - off) * sizeof(MemblockRegion));
      d[off] = r;
    }
    ++ch.cnt;
    std::uint32_t* st = start_.data();
    for (std::size_t k = c + 1, nc = start_.size(); k < nc; ++k) ++st[k];
    ++size_;
  }
  // Erases n regions at offset off of chunk c, all inside that chunk: moves
  // the shorter side; an emptied or small chunk goes to erase_fixup().
  void erase_in(std::size_t c, std::uint32_t off, std::uint32_t n) {
    if (n == size_) {
      clear();
      return;
    }
    size_ -= n;
    Chunk& ch = chunks_[c];
    MemblockRegion* d = slot_data(c);
    const std::uint32_t after = ch.cnt - off - n;
    if (off < after) {
      std::memmove(static_cast<void*>(d + n), d, off * sizeof(MemblockRegion));
      ch.off += n;
    } else {
      std::memmove(static_cast<void*>(d + off), d + off + n, after * sizeof(MemblockRegion));
    }
    ch.cnt -= n;
    std::uint32_t* st = start_.data();
    const std::size_t nc = start_.size();
    for (std::size_t k = c + 1; k < nc; ++k) st[k] -= n;
    if (nc > 1 && ch.cnt <= kMergeAt) erase_fixup(c);
  }
  // After erase_in() left chunk c empty or small: drop it, or merge it with
  // a neighbour that it fits with.
  void erase_fixup(std::size_t c);
  std::uint32_t new_slot();
  void free_slot(std::uint32_t s);
  // Inserts a new empty chunk at position c (start_ left to the caller).
  void add_chunk(std::size_t c);
  void drop_chunk(std::size_t c);
  void restart_from(std::size_t c);  // recompute start_[c..]
  // Merges neighbouring pairs (k, k + 1), k in [lo, hi], that fit kMergeAt.
  void sweep(std::size_t lo, std::size_t hi);

  std::vector<MemblockRegion> pool_;  // kChunk slots per chunk body
  std::vector<Chunk> chunks_;         // address order
  std::vector<std::uint32_t> start_;  // start_[c]: index of chunk c's first region
  std::vector<std::uint32_t> free_;   // unused pool slots
  std::size_t size_ = 0;
  // Where the last non-const lower_bound_end() landed (a hint only).
  std::uint32_t hint_c_ = 0;
  std::uint32_t hint_off_ = 0;
};

inline void swap(RegionArray& a, RegionArray& b) noexcept { a.swap(b); }

}  // namespace khospec::model
