#include "fdt/inspect.hpp"

namespace khospec::fdt {

Inspection inspect(std::span<const std::uint8_t> bytes, const InspectOptions& opts, Report& report) {
  Inspection r;
  r.blob = Blob::open(bytes, opts.read, report);
  // Prerequisite: a failed container check suppresses every decoding check.
  if (r.blob.ok()) r.tree = decode_tree(r.blob, opts.decode, report);
  return r;
}

}  // namespace khospec::fdt
