// The KHO client identity registry the validator follows hand-overs with (data
// only): for every client format of registry::client_formats(), the packed
// layout of a struct blob, the next kernel's reader that refuses anything else,
// and the memfd seal mask; plus the questions asked of it: which formats a
// root child may hold under a root compatible, and a format by its label.
// The formats and their releases stay in era.cpp; this file adds what a
// validator needs to recognise them.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "registry/era.hpp"

namespace khospec::registry {

struct ClientIdentity {
  std::string_view label;   // ClientFormat::label(): "memfd-v2", "kexec-metadata version 1"
  std::string_view layout;  // a struct blob's layout schema (schemas/layouts/), "" for an FDT
  std::string_view reader;  // the kernel function that reads it in the next kernel
  std::uint32_t seals = 0;  // memfd: the seals it can carry (MEMFD_LUO_ALL_SEALS)
};

std::span<const ClientIdentity> client_identities();
// The identity of `f` (every client format has one; registry_test checks).
const ClientIdentity& identity(const ClientFormat& f);

// True when some release of an era whose root compatible is `root_compatible`
// writes `f`; also true for every format when no shipped era uses that
// compatible (kho-v2, RFC layouts): the hand-over names no release to judge by.
bool written_under(std::string_view root_compatible, const ClientFormat& f);
// The formats a root FDT child named `node` can hold (every era).
std::vector<const ClientFormat*> formats_of_node(std::string_view node);
// A format by its label ("memfd-v2"); nullptr when none.
const ClientFormat* format_by_label(std::string_view label);

}  // namespace khospec::registry
