// The outgoing side: the finalize state machine of each era, the
// preservation API (folios, page ranges, vmalloc, kho_alloc_preserve) and
// subtrees.
#include "model/kho/kernel.hpp"

#include <algorithm>
#include <functional>

#include "core/parse.hpp"
#include "model/kho/kernel_internal.hpp"

namespace khospec::model {

using namespace kernel_detail;

// ------------------------------------------------------- state machine ----

int Kernel::run_event(OutEvent ev, const std::function<int()>& mutate) {
  auto t = find_transition(era_, out_state_, ev);
  if (!t) {
    if (ev == OutEvent::kexec_load) return do_kexec_load(false);
    if (ev == OutEvent::preserve || ev == OutEvent::unpreserve) return K_EOPNOTSUPP;
    return K_ENOENT;  // no such debugfs file / API in this era
  }
  int err = 0;
  switch (t->effect) {
    case Effect::none: err = t->ret; break;
    case Effect::mutate: err = mutate ? mutate() : 0; break;
    case Effect::finalize: err = do_finalize_616(); break;
    case Effect::abort: err = do_abort_616(); break;
    case Effect::refresh: err = do_refresh_619(); break;
    case Effect::load_with_kho: err = do_kexec_load(true); break;
    case Effect::load_plain: err = do_kexec_load(false); break;
  }
  OutState before = out_state_;
  if (t->effect == Effect::none) {
    out_state_ = t->on_success;
  } else {
    out_state_ = err ? t->on_failure : t->on_success;
  }
  if (ev != OutEvent::preserve && ev != OutEvent::unpreserve) {
    note(std::string(out_event_name(ev)) + ": " + std::string(out_state_name(before)) + " -> " +
         std::string(out_state_name(out_state_)) + " (" + std::string(effect_name(t->effect)) +
         ", ret " + std::to_string(err) + ")");
  }
  return err;
}

int Kernel::do_finalize_616() {
  // kernel/kexec_handover.c kho_finalize() (6.16/6.18).
  int err = root_->begin_sequential();
  if (!err) err = track_->preserve_order(fdt_page_ / PAGE_SIZE_4K, 0);
  if (!err) {
    in_notifier_ = true;
    for (auto& c : clients_) {
      err = c->fail_finalize ? c->fail_finalize : c->on_finalize(*this);
      if (err) {
        note("FINALIZE notifier '" + c->name() + "' failed: " + std::to_string(err));
        break;
      }
    }
    in_notifier_ = false;
  }
  std::optional<phys_addr_t> map;
  if (!err) {
    map = track_->serialize();
    if (!map) err = K_ENOMEM;
  }
  if (!err) err = root_->finish_sequential(*map);
  if (err) {
    log("KHO: Failed to convert KHO state tree: " + std::to_string(err));
    do_abort_616();
    return err;
  }
  serialized_map_ = *map;
  check_invariants();
  return 0;
}

int Kernel::do_abort_616() {
  // kho_abort(): the tracker and the serialized map go first, then the
  // ABORT notifiers run; their error is returned.
  track_->destroy();
  serialized_map_ = 0;
  subtrees_.clear();
  int err = 0;
  for (auto& c : clients_) {
    int e = c->fail_abort ? c->fail_abort : c->on_abort(*this);
    if (e && !err) err = e;
  }
  if (err) {
    log("KHO: Failed to abort KHO finalization: " + std::to_string(err));
    if (root_ && root_->built()) {
      finding("HAZARD_ABORT_DANGLING_MAP", "warning",
              "an ABORT notifier failed (" + std::to_string(err) +
                  "): KHO stays FINALIZED with an empty tracker while the root FDT still points at "
                  "the freed chunk list");
    }
  }
  return err;
}

int Kernel::do_refresh_619() {
  // kho_finalize() (6.19): re-serialize, free the old list, patch the map.
  std::optional<phys_addr_t> old = serialized_map_ ? std::optional<phys_addr_t>(serialized_map_) : std::nullopt;
  if (old) track_->free_serialized();
  auto map = track_->serialize();
  if (!map) return K_ENOMEM;
  serialized_map_ = *map;
  root_->set_memory_map(*map);
  return 0;
}

int Kernel::debugfs_finalize_write(std::uint64_t val) {
  if (!kho_enable_) return K_ENOENT;  // no /sys/kernel/debug/kho at all
  return run_event(val ? OutEvent::debugfs_write_1 : OutEvent::debugfs_write_0);
}

int Kernel::kho_finalize() {
  if (!kho_enable_) return K_EOPNOTSUPP;
  return run_event(OutEvent::finalize_call);
}

// --------------------------------------------------------- preservation ----

bool Kernel::overlaps_scratch(phys_addr_t a, std::uint64_t len) const {
  for (const auto& s : scratch_)
    if (overlap(a, len, s.addr, s.size)) return true;
  return false;
}

int Kernel::preserve_order_checked(std::uint64_t pfn, unsigned order) {
  if (!track_) return K_EOPNOTSUPP;
  if (cfg_.debug && era_.debug_scratch_check && overlaps_scratch(pfn * PAGE_SIZE_4K, block_bytes(order))) {
    log("KHO: WARNING: kho_scratch_overlap(" + hex(pfn * PAGE_SIZE_4K) + ")");
    return K_EINVAL;
  }
  return track_->preserve_order(pfn, order);
}

int Kernel::kho_preserve_folio(phys_addr_t phys, unsigned order) {
  if (phys % block_bytes(order) != 0) return K_EINVAL;  // not a folio
  return run_event(OutEvent::preserve, [&] { return preserve_order_checked(phys / PAGE_SIZE_4K, order); });
}

namespace {
int preserve_range(Kernel& k, MemTrack& t, std::uint64_t start, std::uint64_t nr,
                   const std::function<int(std::uint64_t, unsigned)>& one, bool hang_bug) {
  auto blocks = kho_split_range(start, nr);
  if (auto f = check_preserve_split(start, nr, blocks)) k.finding(f->id, f->level, f->detail);
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    int err = one(blocks[i].phys / PAGE_SIZE_4K, blocks[i].order);
    if (err) {
      // __kho_unpreserve(start, failed): same split, clear each bit.
      for (std::size_t j = 0; j < i; ++j) {
        if (hang_bug && !t.is_preserved(blocks[j].phys / PAGE_SIZE_4K, blocks[j].order)) {
          k.finding("HAZARD_UNPRESERVE_HANG", "warning",
                    "6.16 __kho_unpreserve() meets a missing level and 'continue's without advancing: "
                    "the kernel loops forever");
          break;
        }
        t.unpreserve_order(blocks[j].phys / PAGE_SIZE_4K, blocks[j].order);
      }
      return err;
    }
  }
  return 0;
}
}  // namespace

int Kernel::kho_preserve_phys(phys_addr_t phys, std::uint64_t size) {
  if (era_.preserve_pages) return K_EOPNOTSUPP;  // replaced by kho_preserve_pages in 6.18
  return run_event(OutEvent::preserve, [&] {
    if (phys % PAGE_SIZE_4K || size % PAGE_SIZE_4K) return K_EINVAL;
    return preserve_range(*this, *track_, phys / PAGE_SIZE_4K, size / PAGE_SIZE_4K,
                          [&](std::uint64_t pfn, unsigned o) { return preserve_order_checked(pfn, o); },
                          era_.unpreserve_hangs);
  });
}

int Kernel::kho_preserve_pages(phys_addr_t phys, std::uint64_t nr) {
  if (!era_.preserve_pages) return K_EOPNOTSUPP;
  return run_event(OutEvent::preserve, [&] {
    if (phys % PAGE_SIZE_4K) return K_EINVAL;
    if (cfg_.debug && era_.debug_scratch_check && overlaps_scratch(phys, nr * PAGE_SIZE_4K)) {
      log("KHO: WARNING: kho_scratch_overlap(" + hex(phys) + ")");
      return K_EINVAL;
    }
    return preserve_range(*this, *track_, phys / PAGE_SIZE_4K, nr,
                          [&](std::uint64_t pfn, unsigned o) { return track_->preserve_order(pfn, o); },
                          false);
  });
}

int Kernel::kho_unpreserve_folio(phys_addr_t phys, unsigned order) {
  if (!era_.unpreserve_api) return K_EOPNOTSUPP;
  return run_event(OutEvent::unpreserve, [&] {
    track_->unpreserve_order(phys / PAGE_SIZE_4K, order);
    return 0;
  });
}

int Kernel::kho_unpreserve_pages(phys_addr_t phys, std::uint64_t nr) {
  if (!era_.unpreserve_api) return K_EOPNOTSUPP;
  return run_event(OutEvent::unpreserve, [&] {
    for (const auto& b : kho_split_range(phys / PAGE_SIZE_4K, nr))
      track_->unpreserve_order(b.phys / PAGE_SIZE_4K, b.order);
    return 0;
  });
}

std::int64_t Kernel::kho_alloc_preserve(std::uint64_t size) {
  if (!era_.alloc_preserve) return K_EOPNOTSUPP;
  if (size == 0) return K_EINVAL;
  unsigned order = 0;
  while ((PAGE_SIZE_4K << order) < size) ++order;  // get_order()
  if (order > MAX_PAGE_ORDER) return K_E2BIG;
  phys_addr_t p = alloc_pages(order);
  if (!p) return K_ENOMEM;
  int err = track_->preserve_order(p / PAGE_SIZE_4K, order);
  if (err) {
    free_pages(p, order);
    return err;
  }
  return static_cast<std::int64_t>(p);
}

void Kernel::kho_unpreserve_free(phys_addr_t phys, std::uint64_t size) {
  if (!phys || !size) return;
  unsigned order = 0;
  while ((PAGE_SIZE_4K << order) < size) ++order;
  if (track_) track_->unpreserve_order(phys / PAGE_SIZE_4K, order);
  free_pages(phys, order);
}

int Kernel::kho_preserve_vmalloc(const std::vector<phys_addr_t>& blocks, unsigned order,
                                 std::uint16_t flags, KhoVmalloc* out) {
  if (!era_.vmalloc) return K_EOPNOTSUPP;
  if (flags & ~(KHO_VMALLOC_ALLOC | KHO_VMALLOC_HUGE_VMAP)) return K_EOPNOTSUPP;
  return run_event(OutEvent::preserve, [&]() -> int {
    auto chunks = kho_vmalloc_write(image(), buddy_, blocks, order, flags, out);
    if (!chunks) return K_ENOMEM;
    for (phys_addr_t c : *chunks) {
      int e = track_->preserve_order(c / PAGE_SIZE_4K, 0);
      if (e) return e;
    }
    for (phys_addr_t b : blocks) {
      int e = preserve_range(*this, *track_, b / PAGE_SIZE_4K, std::uint64_t{1} << order,
                             [&](std::uint64_t pfn, unsigned o) { return track_->preserve_order(pfn, o); },
                             false);
      if (e) return e;
    }
    return 0;
  });
}

int Kernel::kho_add_subtree(const std::string& name, phys_addr_t blob, std::uint64_t size) {
  if (!kho_enable_ || !root_) return K_EOPNOTSUPP;
  // 6.16/6.18: only from a FINALIZE notifier, which owns the serialization.
  if (!era_.root_fdt_at_boot && !in_notifier_) return K_EINVAL;
  int err = root_->add_subtree(name, blob, size);
  if (!err) subtrees_.push_back({name, blob, size});
  note("kho_add_subtree(\"" + name + "\", " + hex(blob) + (era_.blob_size ? ", " + std::to_string(size) : "") +
       ") = " + std::to_string(err));
  return err;
}

int Kernel::kho_remove_subtree(phys_addr_t blob) {
  if (!era_.root_fdt_at_boot || !root_) return K_EOPNOTSUPP;
  int err = root_->remove_subtree(blob);
  if (!err) {
    subtrees_.erase(std::remove_if(subtrees_.begin(), subtrees_.end(),
                                   [&](const Subtree& s) { return s.phys == blob; }),
                    subtrees_.end());
  }
  return err;
}

}  // namespace khospec::model
