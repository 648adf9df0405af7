// model.Memblock: the memblock model, kernel names.
#include "bindings/src/common.hpp"

#include "model/memblock/memblock.hpp"

namespace khospec::bindings {

void init_memblock(py::module_& m) {
  py::class_<model::Memblock>(m, "Memblock", "The memblock model: mm/memblock.c's regions and calls, per era.")
      .def(py::init([](const std::string& era) {
        model::MemblockConfig c;
        if (era == "v6.12") c.era = model::Era::v6_12;
        else if (era == "v6.16") c.era = model::Era::v6_16;
        else throw py::value_error("memblock era must be 'v6.12' or 'v6.16', not '" + era + "'");
        return model::Memblock(c);
      }), py::arg("era") = "v6.16")
      .def("add", [](model::Memblock& mb, std::uint64_t base, std::uint64_t size, std::optional<int> nid) {
        return nid ? mb.memblock_add_node(base, size, *nid, 0) : mb.memblock_add(base, size);
      }, py::arg("base"), py::arg("size"), py::arg("nid") = py::none())
      .def("remove", &model::Memblock::memblock_remove, py::arg("base"), py::arg("size"))
      .def("reserve", &model::Memblock::memblock_reserve, py::arg("base"), py::arg("size"))
      .def("free", &model::Memblock::memblock_phys_free, py::arg("base"), py::arg("size"))
      .def("mark_hotplug", &model::Memblock::memblock_mark_hotplug, py::arg("base"), py::arg("size"))
      .def("clear_hotplug", &model::Memblock::memblock_clear_hotplug, py::arg("base"), py::arg("size"))
      .def("mark_mirror", &model::Memblock::memblock_mark_mirror, py::arg("base"), py::arg("size"))
      .def("mark_nomap", &model::Memblock::memblock_mark_nomap, py::arg("base"), py::arg("size"))
      .def("clear_nomap", &model::Memblock::memblock_clear_nomap, py::arg("base"), py::arg("size"))
      .def("reserved_mark_noinit", &model::Memblock::memblock_reserved_mark_noinit, py::arg("base"), py::arg("size"))
      .def("mark_kho_scratch", &model::Memblock::memblock_mark_kho_scratch, py::arg("base"), py::arg("size"))
      .def("clear_kho_scratch", &model::Memblock::memblock_clear_kho_scratch, py::arg("base"), py::arg("size"))
      .def("set_kho_scratch_only", [](model::Memblock& mb, bool on) {
        if (on) mb.memblock_set_kho_scratch_only(); else mb.memblock_clear_kho_scratch_only();
      }, py::arg("on"))
      .def("set_bottom_up", &model::Memblock::memblock_set_bottom_up, py::arg("enable"))
      .def("set_current_limit", &model::Memblock::memblock_set_current_limit, py::arg("limit"))
      .def("allow_resize", &model::Memblock::memblock_allow_resize)
      .def("phys_alloc", &model::Memblock::memblock_phys_alloc, py::arg("size"), py::arg("align"))
      .def("phys_alloc_range", &model::Memblock::memblock_phys_alloc_range, py::arg("size"), py::arg("align"),
           py::arg("start"), py::arg("end"))
      .def("alloc", &model::Memblock::memblock_alloc, py::arg("size"), py::arg("align"))
      .def("alloc_node", &model::Memblock::memblock_alloc_node, py::arg("size"), py::arg("align"), py::arg("nid"))
      .def("_regions", [](const model::Memblock& mb, const std::string& type) {
        const model::MemblockType* t = type == "memory" ? &mb.memory() : type == "reserved" ? &mb.reserved()
                                       : type == "physmem" ? &mb.physmem() : nullptr;
        if (!t) throw py::value_error("type must be 'memory', 'reserved' or 'physmem', not '" + type + "'");
        py::list l;
        for (const auto& r : t->regions)
          l.append(py::make_tuple(r.base, r.size, model::flags_to_string(r.flags), r.nid));
        return l;
      }, py::arg("type"))
      .def_property_readonly("phys_mem_size", &model::Memblock::memblock_phys_mem_size)
      .def_property_readonly("reserved_size", &model::Memblock::memblock_reserved_size)
      .def("check_invariants", [](const model::Memblock& mb) {
        py::list l;
        for (const auto& v : mb.check_invariants()) l.append(py::make_tuple(v.id, v.detail));
        return l;
      })
      .def_property_readonly("events", [](const model::Memblock& mb) {
        py::list l;
        for (const auto& e : mb.events())
          l.append(py::make_tuple(std::string(model::event_kind_name(e.kind)), e.function, e.message));
        return l;
      })
      .def_property_readonly("failed", &model::Memblock::failed);
}

}  // namespace khospec::bindings
