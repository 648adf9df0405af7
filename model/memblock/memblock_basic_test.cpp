// Port of tools/testing/memblock/tests/basic_api.c (v6.16+ tree), add and
// reserve (remove, free and the rest: memblock_basic_remove_test.cpp): one TEST
// per kernel check, same names, same scenarios and expected values. Each
// comment cites the kernel check, draws its layout where the kernel test has a
// picture (legend in memblock_test_util.hpp) and says what it expects.
#include "model/memblock/memblock_test_util.hpp"

namespace khospec::model::testing {
namespace {

class MemblockBasic : public MemblockFixture {};

// tools/testing/memblock/tests/basic_api.c memblock_initialization_check(), 6.16
// Expect empty arrays (cnt 0 since v6.12), 128 slots, top-down, no limit.
TEST_F(MemblockBasic, memblock_initialization_check) {
  EXPECT_EQ(mb.memory().cnt(), 0u);
  EXPECT_EQ(mb.memory().max, INIT_MEMBLOCK_REGIONS);
  EXPECT_EQ(type_name(mb.memory().id), "memory");
  EXPECT_EQ(mb.reserved().cnt(), 0u);
  EXPECT_EQ(mb.reserved().max, INIT_MEMBLOCK_RESERVED_REGIONS);
  EXPECT_EQ(type_name(mb.reserved().id), "reserved");
  EXPECT_FALSE(mb.bottom_up());
  EXPECT_EQ(mb.current_limit(), MEMBLOCK_ALLOC_ANYWHERE);
}

// ---- memblock_add ---------------------------------------------------------------

// tools/testing/memblock/tests/basic_api.c memblock_add_simple_check(), 6.16
// Expect one new entry; counter and total updated.
TEST_F(MemblockBasic, memblock_add_simple_check) {
  const region r{SZ_1G, SZ_4M};
  reset_memblock_regions();
  mb.memblock_add(r.base, r.size);
  EXPECT_EQ(mem(0).base, r.base);
  EXPECT_EQ(mem(0).size, r.size);
  EXPECT_EQ(mb.memory().cnt(), 1u);
  EXPECT_EQ(mb.memory().total_size, r.size);
}

// tools/testing/memblock/tests/basic_api.c memblock_add_node_simple_check(), 6.16
// Expect one entry with the given nid and flags.
TEST_F(MemblockBasic, memblock_add_node_simple_check) {
  const region r{SZ_1M, SZ_16M};
  reset_memblock_regions();
  mb.memblock_add_node(r.base, r.size, 1, MEMBLOCK_HOTPLUG);
  EXPECT_EQ(mem(0).base, r.base);
  EXPECT_EQ(mem(0).size, r.size);
  EXPECT_EQ(mem(0).nid, 1);
  EXPECT_EQ(mem(0).flags, MEMBLOCK_HOTPLUG);
  EXPECT_EQ(mb.memory().cnt(), 1u);
  EXPECT_EQ(mb.memory().total_size, r.size);
}

// tools/testing/memblock/tests/basic_api.c memblock_add_disjoint_check(), 6.16
//
//  |     +---------+       +---------+     |
//  |     |   r1    |       |   r2    |     |  memory
//  +-----+---------+-------+---------+-----+
//        ^         ^       ^         ^
//        1G        1G+8K   1G+16K    1G+24K
//
// Expect r1 and r2 as two entries, unchanged; cnt 2, total_size 16K.
TEST_F(MemblockBasic, memblock_add_disjoint_check) {
  const region r1{SZ_1G, SZ_8K}, r2{SZ_1G + SZ_16K, SZ_8K};
  reset_memblock_regions();
  mb.memblock_add(r1.base, r1.size);
  mb.memblock_add(r2.base, r2.size);
  EXPECT_EQ(mem(0).base, r1.base);
  EXPECT_EQ(mem(0).size, r1.size);
  EXPECT_EQ(mem(1).base, r2.base);
  EXPECT_EQ(mem(1).size, r2.size);
  EXPECT_EQ(mb.memory().cnt(), 2u);
  EXPECT_EQ(mb.memory().total_size, r1.size + r2.size);
}

// tools/testing/memblock/tests/basic_api.c memblock_add_overlap_top_check(), 6.16
//
//        +---------------+
//        |      r2       |  added second
//        +---------------+
//  |             +-------------------------------+     |
//  |             |              r1               |     |  memory
//  +-------------+-------------------------------+-----+
//        ^       ^       ^                       ^
//        256M    512M    768M                    1536M
//
// Expect one region [256M, 1536M), 1280M, starting at r2.base; cnt 1, total_size 1280M.
TEST_F(MemblockBasic, memblock_add_overlap_top_check) {
  const region r1{SZ_512M, SZ_1G}, r2{SZ_256M, SZ_512M};
  const phys_addr_t total = (r1.base - r2.base) + r1.size;
  reset_memblock_regions();
  mb.memblock_add(r1.base, r1.size);
  mb.memblock_add(r2.base, r2.size);
  EXPECT_EQ(mem(0).base, r2.base);
  EXPECT_EQ(mem(0).size, total);
  EXPECT_EQ(mb.memory().cnt(), 1u);
  EXPECT_EQ(mb.memory().total_size, total);
}

// tools/testing/memblock/tests/basic_api.c memblock_add_overlap_bottom_check(), 6.16
//
//              +---------------------------------+
//              |               r2                |  added second
//              +---------------------------------+
//  |   +-------------------+                           |
//  |   |        r1         |                           |  memory
//  +---+-------------------+---------------------------+
//      ^       ^           ^                     ^
//      128M    256M        640M                  1280M
//
// Expect one region [128M, 1280M), 1152M, starting at r1.base; cnt 1, total_size 1152M.
TEST_F(MemblockBasic, memblock_add_overlap_bottom_check) {
  const region r1{SZ_128M, SZ_512M}, r2{SZ_256M, SZ_1G};
  const phys_addr_t total = (r2.base - r1.base) + r2.size;
  reset_memblock_regions();
  mb.memblock_add(r1.base, r1.size);
  mb.memblock_add(r2.base, r2.size);
  EXPECT_EQ(mem(0).base, r1.base);
  EXPECT_EQ(mem(0).size, total);
  EXPECT_EQ(mb.memory().cnt(), 1u);
  EXPECT_EQ(mb.memory().total_size, total);
}

// tools/testing/memblock/tests/basic_api.c memblock_add_within_check(), 6.16
//
//                  +-----+
//                  | r2  |  added second
//                  +-----+
//  |   +-----------------------------------+   |
//  |   |                r1                 |   |  memory
//  +---+-----------------------------------+---+
//      ^           ^     ^                 ^
//      8M          16M   17M               40M
//
// Expect r1 unchanged, [8M, 40M); cnt 1, total_size 32M.
TEST_F(MemblockBasic, memblock_add_within_check) {
  const region r1{SZ_8M, SZ_32M}, r2{SZ_16M, SZ_1M};
  reset_memblock_regions();
  mb.memblock_add(r1.base, r1.size);
  mb.memblock_add(r2.base, r2.size);
  EXPECT_EQ(mem(0).base, r1.base);
  EXPECT_EQ(mem(0).size, r1.size);
  EXPECT_EQ(mb.memory().cnt(), 1u);
  EXPECT_EQ(mb.memory().total_size, r1.size);
}

// tools/testing/memblock/tests/basic_api.c memblock_add_twice_check(), 6.16
// Same block twice: expect no change on the second add.
TEST_F(MemblockBasic, memblock_add_twice_check) {
  const region r{SZ_16K, SZ_2M};
  reset_memblock_regions();
  mb.memblock_add(r.base, r.size);
  mb.memblock_add(r.base, r.size);
  EXPECT_EQ(mb.memory().cnt(), 1u);
  EXPECT_EQ(mb.memory().total_size, r.size);
}

// tools/testing/memblock/tests/basic_api.c memblock_add_between_check(), 6.16
//
//                  +---------+
//                  |   r3    |  added last
//                  +---------+
//  |     +---------+         +---------+   |
//  |     |   r1    |         |   r2    |   |  memory
//  +-----+---------+---------+---------+---+
//        ^         ^         ^         ^
//        1G        1G+8K     1G+16K    1G+24K
//
// Expect r1, r3 and r2 merged into one region [1G, 1G+24K); cnt 1, total_size 24K.
TEST_F(MemblockBasic, memblock_add_between_check) {
  const region r1{SZ_1G, SZ_8K}, r2{SZ_1G + SZ_16K, SZ_8K}, r3{SZ_1G + SZ_8K, SZ_8K};
  const phys_addr_t total = r1.size + r2.size + r3.size;
  reset_memblock_regions();
  mb.memblock_add(r1.base, r1.size);
  mb.memblock_add(r2.base, r2.size);
  mb.memblock_add(r3.base, r3.size);
  EXPECT_EQ(mem(0).base, r1.base);
  EXPECT_EQ(mem(0).size, total);
  EXPECT_EQ(mb.memory().cnt(), 1u);
  EXPECT_EQ(mb.memory().total_size, total);
}

// tools/testing/memblock/tests/basic_api.c memblock_add_near_max_check(), 6.16
//
//                              +---------------+
//                              |       r       |  2M, past PHYS_ADDR_MAX
//                              +---------------+
//  |                           +-------+
//  |                           |  rgn  |  memory
//  +---------------------------+-------+
//                              ^       ^
//                              |       PHYS_ADDR_MAX
//                              PHYS_ADDR_MAX-1M
//
// Expect rgn [r.base, PHYS_ADDR_MAX): size capped to PHYS_ADDR_MAX - r.base (1M);
// cnt 1, total_size 1M.
TEST_F(MemblockBasic, memblock_add_near_max_check) {
  const region r{PHYS_ADDR_MAX - SZ_1M, SZ_2M};
  const phys_addr_t total = PHYS_ADDR_MAX - r.base;
  reset_memblock_regions();
  mb.memblock_add(r.base, r.size);
  EXPECT_EQ(mem(0).base, r.base);
  EXPECT_EQ(mem(0).size, total);
  EXPECT_EQ(mb.memory().cnt(), 1u);
  EXPECT_EQ(mb.memory().total_size, total);
}

// tools/testing/memblock/tests/basic_api.c memblock_add_many_check(), 6.16
// The 129th memory region: expect memblock_double_array() to double
// memory.max, place the new array in the big region and reserve it.
TEST_F(MemblockBasic, memblock_add_many_check) {
  const region r{SZ_16K, SZ_16K};
  const phys_addr_t size = SZ_64, gap_size = SZ_64;
  reset_memblock_regions();
  mb.memblock_allow_resize();
  phys_addr_t base = page_align(dummy_physical_memory_base());
  const phys_addr_t new_memory_regions_size =
      page_align(INIT_MEMBLOCK_REGIONS * 2 * MEMBLOCK_REGION_BYTES);
  mb.memblock_add(base, new_memory_regions_size);
  base += new_memory_regions_size + gap_size;
  for (std::uint64_t i = 0; i < INIT_MEMBLOCK_REGIONS; ++i) {
    mb.memblock_add(base, size);
    base += size + gap_size;
    ASSERT_EQ(mb.memory().cnt(), i + 2);
    ASSERT_EQ(mb.memory().total_size, new_memory_regions_size + (i + 1) * size);
  }
  EXPECT_EQ(mb.memory().max, INIT_MEMBLOCK_REGIONS * 2);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, new_memory_regions_size);

  mb.memblock_add(r.base, r.size);
  EXPECT_EQ(mem(0).base, r.base);
  EXPECT_EQ(mem(0).size, r.size);
  EXPECT_EQ(mb.memory().cnt(), INIT_MEMBLOCK_REGIONS + 2);
  EXPECT_EQ(mb.memory().total_size,
            INIT_MEMBLOCK_REGIONS * size + new_memory_regions_size + r.size);
  EXPECT_EQ(mb.memory().max, INIT_MEMBLOCK_REGIONS * 2);
}

// ---- memblock_reserve -------------------------------------------------------------

// tools/testing/memblock/tests/basic_api.c memblock_reserve_simple_check(), 6.16
TEST_F(MemblockBasic, memblock_reserve_simple_check) {
  const region r{SZ_2G, SZ_128M};
  reset_memblock_regions();
  mb.memblock_reserve(r.base, r.size);
  EXPECT_EQ(rsv(0).base, r.base);
  EXPECT_EQ(rsv(0).size, r.size);
}

// tools/testing/memblock/tests/basic_api.c memblock_reserve_disjoint_check(), 6.16
//
//  |     +-----+           +---------------+   |
//  |     | r1  |           |      r2       |   |  reserved
//  +-----+-----+-----------+---------------+---+
//        ^     ^           ^               ^
//        256M  272M        512M            1G
//
// Expect r1 and r2 as two entries, unchanged; cnt 2, total_size 528M.
TEST_F(MemblockBasic, memblock_reserve_disjoint_check) {
  const region r1{SZ_256M, SZ_16M}, r2{SZ_512M, SZ_512M};
  reset_memblock_regions();
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_reserve(r2.base, r2.size);
  EXPECT_EQ(rsv(0).base, r1.base);
  EXPECT_EQ(rsv(0).size, r1.size);
  EXPECT_EQ(rsv(1).base, r2.base);
  EXPECT_EQ(rsv(1).size, r2.size);
  EXPECT_EQ(mb.reserved().cnt(), 2u);
  EXPECT_EQ(mb.reserved().total_size, r1.size + r2.size);
}

// tools/testing/memblock/tests/basic_api.c memblock_reserve_overlap_top_check(), 6.16
//
//      +---------------------------+
//      |            r2             |  reserved second
//      +---------------------------+
//  |                           +-------------------------+   |
//  |                           |           r1            |   |  reserved
//  +---------------------------+-------------------------+---+
//      ^                       ^   ^                     ^
//      128M                    1G  1G+128M               2G
//
// Expect one region [128M, 2G), 1920M, starting at r2.base; cnt 1, total_size 1920M.
TEST_F(MemblockBasic, memblock_reserve_overlap_top_check) {
  const region r1{SZ_1G, SZ_1G}, r2{SZ_128M, SZ_1G};
  const phys_addr_t total = (r1.base - r2.base) + r1.size;
  reset_memblock_regions();
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_reserve(r2.base, r2.size);
  EXPECT_EQ(rsv(0).base, r2.base);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// tools/testing/memblock/tests/basic_api.c memblock_reserve_overlap_bottom_check(), 6.16
//
//                              +-----------------------+
//                              |          r2           |  reserved second
//                              +-----------------------+
//  |   +---------------------------+                       |
//  |   |            r1             |                       |  reserved
//  +---+---------------------------+-----------------------+
//      ^                       ^   ^                   ^
//      2K                      |   130K                256K
//                              128K
//
// Expect one region [2K, 256K), 254K, starting at r1.base; cnt 1, total_size 254K.
TEST_F(MemblockBasic, memblock_reserve_overlap_bottom_check) {
  const region r1{SZ_2K, SZ_128K}, r2{SZ_128K, SZ_128K};
  const phys_addr_t total = (r2.base - r1.base) + r2.size;
  reset_memblock_regions();
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_reserve(r2.base, r2.size);
  EXPECT_EQ(rsv(0).base, r1.base);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// tools/testing/memblock/tests/basic_api.c memblock_reserve_within_check(), 6.16
//
//              +-----+
//              | r2  |  reserved second
//              +-----+
//  |   +-----------------------------------+   |
//  |   |                r1                 |   |  reserved
//  +---+-----------------------------------+---+
//      ^       ^     ^                     ^
//      1M      2M    2M+64K                9M
//
// Expect r1 unchanged, [1M, 9M); cnt 1, total_size 8M.
TEST_F(MemblockBasic, memblock_reserve_within_check) {
  const region r1{SZ_1M, SZ_8M}, r2{SZ_2M, SZ_64K};
  reset_memblock_regions();
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_reserve(r2.base, r2.size);
  EXPECT_EQ(rsv(0).base, r1.base);
  EXPECT_EQ(rsv(0).size, r1.size);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, r1.size);
}

// tools/testing/memblock/tests/basic_api.c memblock_reserve_twice_check(), 6.16
TEST_F(MemblockBasic, memblock_reserve_twice_check) {
  const region r{SZ_16K, SZ_2M};
  reset_memblock_regions();
  mb.memblock_reserve(r.base, r.size);
  mb.memblock_reserve(r.base, r.size);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, r.size);
}

// tools/testing/memblock/tests/basic_api.c memblock_reserve_between_check(), 6.16
//
//                  +---------+
//                  |   r3    |  reserved last
//                  +---------+
//  |     +---------+         +---------+   |
//  |     |   r1    |         |   r2    |   |  reserved
//  +-----+---------+---------+---------+---+
//        ^         ^         ^         ^
//        1G        1G+8K     1G+16K    1G+24K
//
// Expect one reserved region [1G, 1G+24K); cnt 1, total_size 24K.
TEST_F(MemblockBasic, memblock_reserve_between_check) {
  const region r1{SZ_1G, SZ_8K}, r2{SZ_1G + SZ_16K, SZ_8K}, r3{SZ_1G + SZ_8K, SZ_8K};
  const phys_addr_t total = r1.size + r2.size + r3.size;
  reset_memblock_regions();
  mb.memblock_reserve(r1.base, r1.size);
  mb.memblock_reserve(r2.base, r2.size);
  mb.memblock_reserve(r3.base, r3.size);
  EXPECT_EQ(rsv(0).base, r1.base);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// tools/testing/memblock/tests/basic_api.c memblock_reserve_near_max_check(), 6.16
//
//                              +---------------+
//                              |       r       |  2M, past PHYS_ADDR_MAX
//                              +---------------+
//  |                           +-------+
//  |                           |  rgn  |  reserved
//  +---------------------------+-------+
//                              ^       ^
//                              |       PHYS_ADDR_MAX
//                              PHYS_ADDR_MAX-1M
//
// Expect rgn [r.base, PHYS_ADDR_MAX): size capped to PHYS_ADDR_MAX - r.base (1M);
// cnt 1, total_size 1M.
TEST_F(MemblockBasic, memblock_reserve_near_max_check) {
  const region r{PHYS_ADDR_MAX - SZ_1M, SZ_2M};
  const phys_addr_t total = PHYS_ADDR_MAX - r.base;
  reset_memblock_regions();
  mb.memblock_reserve(r.base, r.size);
  EXPECT_EQ(rsv(0).base, r.base);
  EXPECT_EQ(rsv(0).size, total);
  EXPECT_EQ(mb.reserved().cnt(), 1u);
  EXPECT_EQ(mb.reserved().total_size, total);
}

// tools/testing/memblock/tests/basic_api.c memblock_reserve_many_check(), 6.16
// The 129th reserved region: expect the reserved array to double and the new
// array to be reserved as one more region.
TEST_F(MemblockBasic, memblock_reserve_many_check) {
  const region r{SZ_16K, SZ_16K};
  phys_addr_t memory_base = SZ_128K;
  reset_memblock_regions();
  mb.memblock_allow_resize();
  mb.memblock_add(dummy_physical_memory_base(), MEM_SIZE);
  for (std::uint64_t i = 0; i < INIT_MEMBLOCK_REGIONS; ++i) {
    mb.memblock_reserve(memory_base, MEM_SIZE);
    ASSERT_EQ(mb.reserved().cnt(), i + 1);
    ASSERT_EQ(mb.reserved().total_size, (i + 1) * MEM_SIZE);
    memory_base += MEM_SIZE * 2;
  }
  mb.memblock_reserve(memory_base, MEM_SIZE);
  const phys_addr_t new_reserved_regions_size =
      page_align(INIT_MEMBLOCK_REGIONS * 2 * MEMBLOCK_REGION_BYTES);
  EXPECT_EQ(mb.reserved().cnt(), INIT_MEMBLOCK_REGIONS + 2);
  EXPECT_EQ(mb.reserved().total_size,
            (INIT_MEMBLOCK_REGIONS + 1) * MEM_SIZE + new_reserved_regions_size);
  EXPECT_EQ(mb.reserved().max, INIT_MEMBLOCK_REGIONS * 2);

  mb.memblock_reserve(r.base, r.size);
  EXPECT_EQ(rsv(0).base, r.base);
  EXPECT_EQ(rsv(0).size, r.size);
  EXPECT_EQ(mb.reserved().cnt(), INIT_MEMBLOCK_REGIONS + 3);
  EXPECT_EQ(mb.reserved().total_size,
            (INIT_MEMBLOCK_REGIONS + 1) * MEM_SIZE + new_reserved_regions_size + r.size);
  EXPECT_EQ(mb.reserved().max, INIT_MEMBLOCK_REGIONS * 2);
}

// tools/testing/memblock/tests/basic_api.c memblock_reserve_all_locations_check(), 6.16
//
//  |                                                             +-----+   |
//  |                                                             | 32K |   |  memory (dummy base)
//  +-------------------------------------------------------------+-----+---+
//  |   +-----+   +-----+   .......   +-----+         +-----+               |
//  |   |  0  |   |  1  |   :skip :   | ... |         | 128 |               |  reserved
//  +---+-----+---+-----+---+-----+---+-----+---------+-----+---------------+
//      ^         ^         ^                         ^
//      B(0)      B(1)      B(skip)                   B(128)
//
// B(i) = 128K + 64K * i, each box 32K; B(skip) is reserved last, for every skip in 0..128.
// Expect that 129th reservation to double reserved (max 256) and reserve the new 8K array
// inside memory: cnt 130, total_size 129 * 32K + 8K; then r [16K, 32K) becomes regions[0]
// (cnt 131).
TEST_F(MemblockBasic, memblock_reserve_all_locations_check) {
  const region r{SZ_16K, SZ_16K};
  auto memory_base_at = [](std::uint64_t idx) { return SZ_128K + (MEM_SIZE * 2) * idx; };
  const phys_addr_t new_reserved_regions_size =
      page_align(INIT_MEMBLOCK_REGIONS * 2 * MEMBLOCK_REGION_BYTES);
  for (std::uint64_t skip = 0; skip < INIT_MEMBLOCK_REGIONS + 1; ++skip) {
    SCOPED_TRACE("skip=" + std::to_string(skip));
    reset_memblock_regions();
    mb.memblock_allow_resize();
    mb.memblock_add(dummy_physical_memory_base(), MEM_SIZE);
    for (std::uint64_t i = 0; i < INIT_MEMBLOCK_REGIONS + 1; ++i) {
      if (i == skip) continue;
      mb.memblock_reserve(memory_base_at(i), MEM_SIZE);
      if (i < skip) {
        ASSERT_EQ(mb.reserved().cnt(), i + 1);
        ASSERT_EQ(mb.reserved().total_size, (i + 1) * MEM_SIZE);
      } else {
        ASSERT_EQ(mb.reserved().cnt(), i);
        ASSERT_EQ(mb.reserved().total_size, i * MEM_SIZE);
      }
    }
    mb.memblock_reserve(memory_base_at(skip), MEM_SIZE);
    ASSERT_EQ(mb.reserved().cnt(), INIT_MEMBLOCK_REGIONS + 2);
    ASSERT_EQ(mb.reserved().total_size,
              (INIT_MEMBLOCK_REGIONS + 1) * MEM_SIZE + new_reserved_regions_size);
    ASSERT_EQ(mb.reserved().max, INIT_MEMBLOCK_REGIONS * 2);

    mb.memblock_reserve(r.base, r.size);
    ASSERT_EQ(rsv(0).base, r.base);
    ASSERT_EQ(rsv(0).size, r.size);
    ASSERT_EQ(mb.reserved().cnt(), INIT_MEMBLOCK_REGIONS + 3);
    ASSERT_EQ(mb.reserved().total_size,
              (INIT_MEMBLOCK_REGIONS + 1) * MEM_SIZE + new_reserved_regions_size + r.size);
    ASSERT_EQ(mb.reserved().max, INIT_MEMBLOCK_REGIONS * 2);
  }
}

// tools/testing/memblock/tests/basic_api.c memblock_reserve_many_may_conflict_check(), 6.16
//
//  |   +-----+             +-----+                               |
//  |   |  0  |             |skip |                               |  memory
//  +---+-----+-------------+-----+-------------------------------+
//  |             +-----+   .......   +-----+         +-----+     |
//  |             |  1  |   :skip :   | ... |         | 129 |     |  reserved
//  +-------------+-----+---+-----+---+-----+---------+-----+-----+
//      ^         ^         ^                         ^
//      B(0)      B(1)      B(skip)                   B(129)
//
// B(i) = PAGE_ALIGN(dummy base) + 64K * i, each box 32K; skip runs over 1..129 and is
// reserved last. Expect the doubled reserved array (8K) at the top of memory B(0), ending
// at B(0) + 32K, and not in B(skip); cnt 130, then 131 once r [16K, 32K) is reserved.
// The kernel fix is commit 48c3b583bbdd.
TEST_F(MemblockBasic, memblock_reserve_many_may_conflict_check) {
  const region r{SZ_16K, SZ_16K};
  const phys_addr_t offset = page_align(dummy_physical_memory_base());
  auto base_at = [offset](std::uint64_t idx) { return offset + (MEM_SIZE * 2) * idx; };
  const phys_addr_t new_reserved_regions_size =
      page_align(INIT_MEMBLOCK_REGIONS * 2 * MEMBLOCK_REGION_BYTES);
  for (std::uint64_t skip = 1; skip <= INIT_MEMBLOCK_REGIONS + 1; ++skip) {
    SCOPED_TRACE("skip=" + std::to_string(skip));
    reset_memblock_regions();
    mb.memblock_allow_resize();
    reset_memblock_attributes();
    mb.memblock_add(base_at(0), MEM_SIZE);
    mb.memblock_add(base_at(skip), MEM_SIZE);
    for (std::uint64_t i = 1; i <= INIT_MEMBLOCK_REGIONS + 1; ++i) {
      if (i == skip) continue;
      mb.memblock_reserve(base_at(i), MEM_SIZE);
      if (i < skip) {
        ASSERT_EQ(mb.reserved().cnt(), i);
        ASSERT_EQ(mb.reserved().total_size, i * MEM_SIZE);
      } else {
        ASSERT_EQ(mb.reserved().cnt(), i - 1);
        ASSERT_EQ(mb.reserved().total_size, (i - 1) * MEM_SIZE);
      }
    }
    mb.memblock_reserve(base_at(skip), MEM_SIZE);
    ASSERT_EQ(mb.reserved().cnt(), INIT_MEMBLOCK_REGIONS + 2);
    ASSERT_EQ(mb.reserved().total_size,
              (INIT_MEMBLOCK_REGIONS + 1) * MEM_SIZE + new_reserved_regions_size);
    ASSERT_EQ(mb.reserved().max, INIT_MEMBLOCK_REGIONS * 2);
    ASSERT_EQ(rsv(0).base + rsv(0).size, base_at(0) + SZ_32K);
    ASSERT_EQ(rsv(0).size, new_reserved_regions_size);

    mb.memblock_reserve(r.base, r.size);
    ASSERT_EQ(rsv(0).base, r.base);
    ASSERT_EQ(rsv(0).size, r.size);
    ASSERT_EQ(mb.reserved().cnt(), INIT_MEMBLOCK_REGIONS + 3);
    ASSERT_EQ(mb.reserved().total_size,
              (INIT_MEMBLOCK_REGIONS + 1) * MEM_SIZE + new_reserved_regions_size + r.size);
    ASSERT_EQ(mb.reserved().max, INIT_MEMBLOCK_REGIONS * 2);
  }
}

}  // namespace
}  // namespace khospec::model::testing
