// The wire ABI a kernel of one era writes, as the model knows it
// (`khospec model abi-dump --era ERA`): the root FDT's compatible and
// properties, the child-node properties, and every fixed layout reachable
// from the preserved-memory map, sized from the model's own constants
// (PRESERVE_BITS, KHOSER_BITMAP_SIZE, the radix table sizes). This is the
// machine-readable dump the compatibility checker compares, QEMU
// -dump-vmstate style (docs/compat.md).
//
// Constraints describe what the era *writes*: e.g. preserved-memory-map is
// never 0 from any era's writer (6.16+ preserve the root FDT page itself),
// while only 6.19+ readers refuse 0 (kho_populate(): populate_needs_map).
#pragma once

#include "core/abi.hpp"
#include "model/kho/era.hpp"

namespace khospec::model {

abi::AbiSet kho_abi_dump(KhoEra era);

}  // namespace khospec::model
