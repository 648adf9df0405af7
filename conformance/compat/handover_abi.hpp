// The ABI a real hand-over shows (`khospec compat A.dtb B.dtb`): what the
// bytes a kernel wrote say about the format it writes, in the description
// the compatibility checker compares (core/abi.hpp), so two captured
// hand-overs are compared with the same rules and categories as two schemas.
//
//   root format     the root compatible; each property present, typed and
//                   marked required as the built-in schema of that
//                   compatible says (an unknown property: its decoded type,
//                   optional); each client node by name (optional: a client
//                   one kernel has and the other not is an addition)
//   client formats  with a memory image: each sub-FDT's compatible and
//                   properties, each packed-struct client by its format label
//   layouts         with a memory image: the struct layouts the hand-over
//                   walker (conformance/handover) followed, and the client
//                   pointers point to what was found there (`fdt`, `luo_ser`,
//                   `kho_kexec_metadata`); without one, what the schema says
#pragma once

#include <optional>
#include <span>
#include <string>

#include "conformance/image/image.hpp"
#include "core/abi.hpp"
#include "core/diag.hpp"

namespace khospec::conformance {

// `root`: a KHO root FDT's bytes (the caller checked it is one); `image`
// nullptr: no memory image. Returns nullopt (a compat_input_invalid finding in
// `report`) when the root cannot be decoded.
std::optional<abi::AbiSet> abi_from_handover(std::span<const std::uint8_t> root, const MemoryImage* image,
                                             const std::string& origin, Report& report);

}  // namespace khospec::conformance
