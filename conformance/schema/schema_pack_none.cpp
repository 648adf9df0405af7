// No schema pack: what the pack's generator links (it compiles the schemas from
// their YAML, so it cannot need its own output). builtin() then reads the YAML.
#include "conformance/schema/schema_pack.hpp"

namespace khospec::conformance {

std::span<const std::uint8_t> builtin_schema_pack() { return {}; }

}  // namespace khospec::conformance
