// The stateless radix tree's key encoding (kho-v2+): a block (phys, order)
// as one key whose highest set bit gives the order, and the key's split into
// five 9-bit table indices and a 15-bit leaf bit.
#include "model/kho/mem_track.hpp"

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "model/kho/mem_track_internal.hpp"

namespace khospec::model {

using namespace mem_detail;

std::uint64_t kho_radix_encode_key(phys_addr_t phys, unsigned order) {
  if (order > KHO_MAX_WIRE_ORDER) return 0;
  return std::uint64_t{1} << (KHO_ORDER_0_LOG2 - order) | phys >> (KHO_PAGE_SHIFT + order);
}

bool kho_radix_key_valid(std::uint64_t key) {
  const int fls = std::bit_width(key);
  return fls >= 2 && fls <= static_cast<int>(KHO_ORDER_0_LOG2) + 1;
}

// kho_radix_decode_key(): order = 52 - fls64(key) + 1, phys = key << (12 + order)
// (the order bit falls off the top).
PreservedBlock kho_radix_decode_key(std::uint64_t key) {
  if (!kho_radix_key_valid(key)) return PreservedBlock{0, 64};
  const unsigned order = KHO_ORDER_0_LOG2 + 1 - static_cast<unsigned>(std::bit_width(key));
  return PreservedBlock{key << (KHO_PAGE_SHIFT + order), order};
}

unsigned kho_radix_table_index(std::uint64_t key, unsigned level) {
  if (level == 0 || level >= KHO_TREE_MAX_DEPTH) return 0;
  return static_cast<unsigned>((key >> ((level - 1) * KHO_TABLE_SIZE_LOG2 + KHO_BITMAP_SIZE_LOG2)) %
                               kTableEntries);
}

unsigned kho_radix_bitmap_index(std::uint64_t key) { return static_cast<unsigned>(key % kLeafBits); }

std::vector<std::string> kho_radix_key_violations(const PreservedBlock& block, std::uint64_t key) {
  std::vector<std::string> out;
  if (kho_radix_decode_key(key) != block) out.emplace_back("INV_RADIX_KEY_BIJECTIVE");
  std::uint64_t rebuilt = kho_radix_bitmap_index(key);
  for (unsigned level = 1; level < KHO_TREE_MAX_DEPTH; ++level)
    rebuilt |= std::uint64_t{kho_radix_table_index(key, level)}
               << ((level - 1) * KHO_TABLE_SIZE_LOG2 + KHO_BITMAP_SIZE_LOG2);
  if (rebuilt != key) out.emplace_back("INV_RADIX_TREE_SHAPE");
  return out;
}

}  // namespace khospec::model
