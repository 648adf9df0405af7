// Golden-output tests for memblock_replay() (the `khospec memblock replay`
// engine): text and JSON output, WARN lines, dumps, and parse errors that
// stop the replay before any line runs.
#include "model/memblock/memblock_replay.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace khospec::model {
namespace {

struct ReplayRun {
  int rc;
  std::string out, err;
};
ReplayRun replay(const std::string& trace, bool json = false) {
  std::istringstream in(trace);
  std::ostringstream out, err;
  ReplayOptions opts;
  opts.json = json;
  const int rc = memblock_replay(in, "t.trace", out, err, opts);
  return {rc, out.str(), err.str()};
}

// A KHO-booted kernel's early boot: scratch-only allocations, a WARN from an
// RSRV_KERN reservation below a plain one, scratch exhaustion, noinit split.
constexpr const char* kScratchTrace = R"TRACE(# KHO-booted kernel: scratch-only early boot (v6.16)
era v6.16
add 0x100000 0x10000000          # 256 MiB at 1 MiB
mark_kho_scratch 0x8000000 0x400000
reserve 0x1000000 0x200000       # kernel image
set_kho_scratch_only
phys_alloc 0x1000 0x1000
alloc_try_nid 0x2000 0x1000 0 0 -1
reserve_kern 0xf00000 0x200000   # piece below a flags-0 region: WARN
dump
alloc_from 0x400000 0x1000 0     # scratch exhausted: no fallback
clear_kho_scratch_only
phys_alloc 0x1000 0x1000
mark_noinit 0x1000000 0x100000
)TRACE";
constexpr const char* kScratchGolden = R"GOLDEN(era v6.16
add 0x100000 0x10000000 => 0
mark_kho_scratch 0x8000000 0x400000 => 0
reserve 0x1000000 0x200000 => 0
set_kho_scratch_only
phys_alloc 0x1000 0x1000 => 0x83ff000
alloc_try_nid 0x2000 0x1000 0 0 -1 => 0x83fd000
reserve_kern 0xf00000 0x200000 => 0
  WARN memblock_add_range: WARN_ON(flags != MEMBLOCK_NONE && flags != rgn->flags)
dump
memory cnt=3 max=128 total_size=0x10000000
  memory[0] 0x100000 0x7f00000 0x0 64
  memory[1] 0x8000000 0x400000 0x40 64
  memory[2] 0x8400000 0x7d00000 0x0 64
reserved cnt=3 max=128 total_size=0x303000
  reserved[0] 0xf00000 0x100000 0x20 -1
  reserved[1] 0x1000000 0x200000 0x0 -1
  reserved[2] 0x83fd000 0x3000 0x20 -1
alloc_from 0x400000 0x1000 0 => 0
clear_kho_scratch_only
phys_alloc 0x1000 0x1000 => 0x100ff000
mark_noinit 0x1000000 0x100000 => 0
# end of trace (v6.16)
memory cnt=3 max=128 total_size=0x10000000
  memory[0] 0x100000 0x7f00000 0x0 64
  memory[1] 0x8000000 0x400000 0x40 64
  memory[2] 0x8400000 0x7d00000 0x0 64
reserved cnt=5 max=128 total_size=0x304000
  reserved[0] 0xf00000 0x100000 0x20 -1
  reserved[1] 0x1000000 0x100000 0x10 -1
  reserved[2] 0x1100000 0x100000 0x0 -1
  reserved[3] 0x83fd000 0x3000 0x20 -1
  reserved[4] 0x100ff000 0x1000 0x20 -1
)GOLDEN";

TEST(MemblockReplay, scratch_boot_text_golden) {
  const ReplayRun r = replay(kScratchTrace);
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, kScratchGolden);
}

// v6.12: reservations carry MAX_NUMNODES and no RSRV_KERN; JSON output.
constexpr const char* kEraTrace = R"TRACE(era v6.12
add_node 0x0 0x200000 0 HOTPLUG
add 0x100000 0x200000
reserve 4096 8192
phys_alloc_range 0x1000 0x1000 0 0x100000
)TRACE";
constexpr const char* kEraGoldenJson = R"GOLDEN({
  "trace": "t.trace",
  "calls": [
    {
      "line": 1,
      "call": "era v6.12"
    },
    {
      "line": 2,
      "call": "add_node 0x0 0x200000 0 HOTPLUG",
      "ret": "0"
    },
    {
      "line": 3,
      "call": "add 0x100000 0x200000",
      "ret": "0"
    },
    {
      "line": 4,
      "call": "reserve 4096 8192",
      "ret": "0"
    },
    {
      "line": 5,
      "call": "phys_alloc_range 0x1000 0x1000 0 0x100000",
      "ret": "0xff000"
    }
  ],
  "era": "v6.12",
  "failed": false,
  "final": {
    "memory": {
      "cnt": 2,
      "max": 128,
      "total_size": "0x300000",
      "regions": [
        {
          "base": "0x0",
          "size": "0x200000",
          "flags": "0x1",
          "flag_names": "HOTPLUG",
          "nid": 0
        },
        {
          "base": "0x200000",
          "size": "0x100000",
          "flags": "0x0",
          "flag_names": "NONE",
          "nid": 64
        }
      ]
    },
    "reserved": {
      "cnt": 2,
      "max": 128,
      "total_size": "0x3000",
      "regions": [
        {
          "base": "0x1000",
          "size": "0x2000",
          "flags": "0x0",
          "flag_names": "NONE",
          "nid": 64
        },
        {
          "base": "0xff000",
          "size": "0x1000",
          "flags": "0x0",
          "flag_names": "NONE",
          "nid": 64
        }
      ]
    }
  }
}
)GOLDEN";

TEST(MemblockReplay, era_v6_12_json_golden) {
  const ReplayRun r = replay(kEraTrace, true);
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, kEraGoldenJson);
}

TEST(MemblockReplay, malformed_line_reports_and_runs_nothing) {
  struct Case {
    const char* trace;
    const char* error;
  };
  const Case cases[] = {
      {"add 0x1000 0x1000\nadd 0x1000\n", "t.trace:2: error: 'add' takes 2 argument(s), got 1\n"},
      {"add 0x1g 0x10\n", "t.trace:1: error: argument 1 of 'add' must be a number, got '0x1g'\n"},
      {"era v7\n", "t.trace:1: error: argument 1 of 'era' must be v6.12 or v6.16, got 'v7'\n"},
      {"add_node 0 0x1000 0 BOGUS\n",
       "t.trace:1: error: argument 4 of 'add_node' must be memblock flags, got 'BOGUS'\n"},
      {"add 0x10000000000000000 1\n",
       "t.trace:1: error: argument 1 of 'add' must be a number, got '0x10000000000000000'\n"},
  };
  for (const auto& c : cases) {
    const ReplayRun r = replay(c.trace);
    EXPECT_EQ(r.rc, 1) << c.trace;
    EXPECT_EQ(r.err, c.error);
    EXPECT_EQ(r.out, "") << "nothing may run before the whole trace parsed";
  }
}

TEST(MemblockReplay, unknown_call_lists_the_calls_and_suggests_one) {
  const ReplayRun typo = replay("dump\nreserv 0x1000 0x1000\n");
  EXPECT_EQ(typo.rc, 1);
  EXPECT_EQ(typo.out, "");
  EXPECT_EQ(typo.err.rfind("t.trace:2: error: unknown call 'reserv' (did you mean 'reserve'?); the calls are: era, ", 0), 0u)
      << typo.err;
  EXPECT_NE(typo.err.find(", phys_alloc_range, "), std::string::npos) << typo.err;
  const ReplayRun far = replay("foo 1\n");
  EXPECT_EQ(far.rc, 1);
  EXPECT_EQ(far.err.find("did you mean"), std::string::npos) << "nothing is near 'foo': " << far.err;
  EXPECT_NE(far.err.find("unknown call 'foo'; the calls are: "), std::string::npos) << far.err;
  // The list printed for --help is the parser's table: every listed call parses.
  std::ostringstream list;
  list_replay_calls(list);
  std::istringstream lines(list.str());
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    std::istringstream w(line);
    std::string name;
    w >> name;
    EXPECT_EQ(replay(name + "\n").err.find("unknown call"), std::string::npos) << name;
  }
  EXPECT_EQ(n, 29);
}

// The memory bound (docs/fuzz.md): a line longer than any call and a trace
// of more calls than a boot makes are refused before anything runs.
TEST(MemblockReplay, overlong_line_and_too_many_calls_are_refused) {
  const ReplayRun longline = replay("dump\nadd 0x1000 " + std::string(5000, '1') + "\n");
  EXPECT_EQ(longline.rc, 1);
  EXPECT_EQ(longline.err, "t.trace:2: error: line longer than 4096 bytes\n");
  EXPECT_EQ(longline.out, "");
  std::string many;
  for (int i = 0; i <= 100000; ++i) many += "dump\n";
  const ReplayRun r = replay(many);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "t.trace:100001: error: more than 100000 calls\n");
  EXPECT_EQ(r.out, "");
  std::string comments(200000, '\n');
  EXPECT_EQ(replay(comments + "dump\n").rc, 0) << "blank lines are no calls";
}

TEST(MemblockReplay, comments_blank_lines_and_flag_names) {
  const ReplayRun r = replay("# only comments\n\n   \nadd_node 0x1000 0x1000 1 MEMBLOCK_HOTPLUG|NOMAP # x\n");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("add_node 0x1000 0x1000 1 MEMBLOCK_HOTPLUG|NOMAP => 0\n"), std::string::npos);
  EXPECT_NE(r.out.find("  memory[0] 0x1000 0x1000 0x5 1\n"), std::string::npos);
}

TEST(MemblockReplay, bug_and_panic_are_reported_not_fatal) {
  std::string trace = "add 0 0x100000000\n";
  for (int i = 0; i < 129; ++i) trace += "reserve " + std::to_string(0x100000 + i * 0x2000) + " 0x1000\n";
  trace += "phys_alloc 0x1000 0x1000\n";
  const ReplayRun r = replay(trace);
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("  PANIC memblock_double_array: panic(\"memblock: cannot resize reserved array\")\n"),
            std::string::npos);
  EXPECT_NE(r.out.find("phys_alloc 0x1000 0x1000 => 0\n"), std::string::npos);
  EXPECT_NE(r.out.find("# model stopped: PANIC in memblock_double_array"), std::string::npos);
}

TEST(MemblockReplay, free_all_and_reserve_kern_era_gate) {
  const ReplayRun r = replay("era v6.12\nreserve_kern 0x1000 0x1000\nadd 0 0x800000\nfree_all\n");
  EXPECT_NE(r.out.find("reserve_kern 0x1000 0x1000 => -38\n"), std::string::npos);
  EXPECT_NE(r.out.find("free_all => pages=2048 chunks=2\n"), std::string::npos);
}

}  // namespace
}  // namespace khospec::model
