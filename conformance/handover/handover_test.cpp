// The followed hand-over: the layouts the readers name exist. The readers are
// exercised end to end by the corpus (conformance/corpus/handover/: a case that
// fires per check, clean controls per era) and on the real 7.3 captures
// (conformance/validate/followed_captures_test.cpp).
#include <gtest/gtest.h>

#include "conformance/handover/handover.hpp"
#include "conformance/handover/walk.hpp"

namespace khospec::conformance {
namespace {

TEST(Handover, EveryLayoutTheReadersNameExists) {
  for (const char* n : {"luo_ser", "luo_session_ser", "luo_session_header_ser", "luo_file_ser", "luo_flb_header_ser",
                        "luo_flb_ser", "kho_block_header_ser", "memfd_luo_ser_v1", "memfd_luo_ser_v2",
                        "memfd_luo_folio_ser", "kho_vmalloc", "kho_vmalloc_chunk", "kho_kexec_metadata"})
    EXPECT_GT(follow::layout(n).size, 0u) << n;
}

}  // namespace
}  // namespace khospec::conformance
