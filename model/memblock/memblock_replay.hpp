// `khospec memblock replay TRACE|-`: run a memblock call trace through the
// model and print what the kernel would return, warn about and end up with.
//
// Trace format (one call per line, `#` starts a comment, numbers are hex
// `0x...` or decimal):
//   era v6.12|v6.16            bottom_up 0|1          allow_resize
//   set_current_limit ADDR     set_kho_scratch_only   clear_kho_scratch_only
//   mirrored_kernelcore 0|1    (model option: kernelcore=mirror)
//   add BASE SIZE              add_node BASE SIZE NID [FLAGS]
//   reserve BASE SIZE          reserve_kern BASE SIZE [NID]
//   remove BASE SIZE           free BASE SIZE   (memblock_phys_free)
//   mark_hotplug | clear_hotplug | mark_mirror | mark_nomap | clear_nomap |
//   mark_kho_scratch | clear_kho_scratch | mark_noinit  BASE SIZE
//   trim_memory ALIGN
//   phys_alloc_range SIZE ALIGN START END     phys_alloc SIZE ALIGN
//   alloc_try_nid SIZE ALIGN MIN MAX NID      alloc_exact_nid_raw SIZE ALIGN MIN MAX NID
//   alloc_from SIZE ALIGN MIN                 free_all
//   dump
// FLAGS is a number or names joined by '|' (HOTPLUG|NOMAP, KHO_SCRATCH, ...).
// NID is decimal and may be -1 (NUMA_NO_NODE).
#pragma once

#include <iosfwd>
#include <string_view>

namespace khospec::model {

struct ReplayOptions {
  bool json = false;
};

// Reads a memblock call trace, executes it, writes results to `out`.
// Returns 0 on success; on a malformed line writes "NAME:LINE: error: ..." to
// `err` and returns 1 WITHOUT executing any line (the whole trace is parsed
// first, then executed). A line over 4096 bytes and a trace of more than
// 100000 calls are malformed too (the memory bound, docs/fuzz.md).
int memblock_replay(std::istream& in, std::string_view name, std::ostream& out,
                    std::ostream& err, const ReplayOptions& opts);

}  // namespace khospec::model
