"""Corruptions the host applies to a stopped guest's hand-over just before the
jump, so that the next (real) kernel judges them. Each takes the gdbstub, the
host's validation of the intact hand-over (khospec -f json) and the root's
address, and returns what it changed."""

import struct


class FaultError(RuntimeError):
    pass


def _sub_blobs(report):
    return {s["node"].strip("/"): s for s in report["memory"]["sub_blobs"]}


def _root(gdb, root_phys):
    head = gdb.read(root_phys, 8, phys=True)
    total = struct.unpack(">I", head[4:8])[0]
    return bytearray(gdb.read(root_phys, total, phys=True))


def _radix_leaf_bit(gdb, map_root, phys, order):
    # The kho-v4 radix tree (7.2+): key (1 << (52 - order)) | (phys >> (12 + order));
    # level l (5..1) indexes (key >> ((l - 1) * 9 + 15)) & 511; the leaf bit is key & 32767.
    key = (1 << (52 - order)) | (phys >> (12 + order))
    table = map_root
    for level in range(5, 0, -1):
        idx = (key >> ((level - 1) * 9 + 15)) & 511
        table = struct.unpack("<Q", gdb.read(table + idx * 8, 8, phys=True))[0]
        if table == 0:
            raise FaultError(f"no radix path for {phys:#x} order {order}")
    bit = key & 32767
    return table + bit // 8, 1 << (bit % 8)


def clear_preserved_bit(gdb, report, root_phys, client="memblock"):
    """Clears the preserved bit of the block that holds `client`'s blob."""
    subs = _sub_blobs(report)
    if client not in subs:
        raise FaultError(f"no client '{client}' to corrupt")
    target = int(subs[client]["phys"], 16)
    blocks = [(int(b["phys"], 16), b["order"]) for b in report["memory"]["blocks"]]
    hit = [(p, o) for p, o in blocks if p <= target < p + (4096 << o)]
    if not hit:
        raise FaultError(f"'{client}' at {target:#x} lies in no preserved block")
    if "radix" not in report["memory"]["format"]:
        raise FaultError("the map is not a radix tree (kho-v3+ is needed)")
    byte, mask = _radix_leaf_bit(gdb, int(report["memory"]["map_head"], 16), *hit[0])
    old = gdb.read(byte, 1, phys=True)[0]
    gdb.write(byte, bytes([old & ~mask]))
    return f"cleared the preserved bit of {hit[0][0]:#x} order {hit[0][1]} (holds /{client}'s blob at {target:#x})"


def swap_sub_blobs(gdb, report, root_phys, a="memblock", b="kexec-metadata"):
    """Swaps two children's preserved-data pointers in the root FDT."""
    subs = _sub_blobs(report)
    if a not in subs or b not in subs:
        raise FaultError(f"need clients '{a}' and '{b}'")
    pa, pb = int(subs[a]["phys"], 16), int(subs[b]["phys"], 16)
    root = _root(gdb, root_phys)
    ea, eb = struct.pack("<Q", pa), struct.pack("<Q", pb)
    ia, ib = root.find(ea), root.find(eb)
    if ia < 0 or ib < 0 or root.count(ea) != 1 or root.count(eb) != 1:
        raise FaultError("the two pointers are not unique in the root")
    root[ia:ia + 8], root[ib:ib + 8] = eb, ea
    gdb.write(root_phys, bytes(root))
    return f"swapped /{a} ({pa:#x}) and /{b} ({pb:#x}) preserved-data in the root"


def bump_compatible(gdb, report, root_phys, client="memblock", old=b"memblock-v1", new=b"memblock-v9"):
    """Rewrites a compatible string inside a client's blob."""
    subs = _sub_blobs(report)
    if client not in subs:
        raise FaultError(f"no client '{client}'")
    phys = int(subs[client]["phys"], 16)
    size = subs[client]["size"] or 4096
    blob = gdb.read(phys, size, phys=True)
    i = blob.find(old)
    if i < 0:
        raise FaultError(f"'{old.decode()}' not in /{client}'s blob")
    gdb.write(phys + i, new)
    return f"/{client}: compatible '{old.decode()}' -> '{new.decode()}' at {phys + i:#x}"


def shorten_blob_size(gdb, report, root_phys, client="memblock"):
    """Halves a child's blob-size in the root (the property after preserved-data)."""
    subs = _sub_blobs(report)
    if client not in subs or not subs[client]["size"]:
        raise FaultError(f"no client '{client}' with a blob-size")
    phys, size = int(subs[client]["phys"], 16), subs[client]["size"]
    root = _root(gdb, root_phys)
    i = root.find(struct.pack("<Q", phys))
    # Each property: FDT_PROP tag, len, nameoff (big-endian), then the u64 value.
    # 7.x writes blob-size just before preserved-data; accept either neighbour.
    prop = struct.pack(">II", 3, 8)
    at = None
    for v in (i - 20, i + 20):
        if i >= 0 and 0 <= v and root[v - 12:v - 4] == prop and struct.unpack("<Q", root[v:v + 8])[0] == size:
            at = v
    if at is None:
        raise FaultError(f"no blob-size property beside /{client}'s preserved-data")
    gdb.write(root_phys + at, struct.pack("<Q", size // 2))
    return f"/{client}: blob-size {size:#x} -> {size // 2:#x}"


def break_luo_chain(gdb, report, root_phys):
    """Makes the first LUO session block claim far more entries than it holds."""
    subs = _sub_blobs(report)
    if "LUO" not in subs:
        raise FaultError("no LUO client (run it on luo-memfd)")
    luo = int(subs["LUO"]["phys"], 16)
    # luo_ser (luo-v5, 7.2+): compatible[8], liveupdate_num, sessions_pa, flbs_pa.
    sessions = struct.unpack("<Q", gdb.read(luo + 16, 8, phys=True))[0]
    if sessions == 0:
        raise FaultError("luo_ser.sessions_pa is 0: LUO has not serialized (liveupdate_reboot())")
    # kho_block_header_ser {next, count}: count at +8.
    gdb.write(sessions + 8, struct.pack("<Q", 0x10000))
    return f"LUO session block {sessions:#x}: kho_block_header_ser.count -> 0x10000"


def _u64(gdb, phys):
    return struct.unpack("<Q", gdb.read(phys, 8, phys=True))[0]


def clear_memfd_folio_bit(gdb, report, root_phys, folio=3):
    """Clears the preserved bit under one memfd folio, found through LUO:
    luo_ser -> session block -> file block -> memfd_luo_ser -> kho_vmalloc -> folio."""
    subs = _sub_blobs(report)
    if "LUO" not in subs:
        raise FaultError("no LUO client (run it on luo-memfd)")
    sessions = _u64(gdb, int(subs["LUO"]["phys"], 16) + 16)       # luo_ser.sessions_pa
    if sessions == 0:
        raise FaultError("luo_ser.sessions_pa is 0: LUO has not serialized")
    files = _u64(gdb, sessions + 16 + 64)                          # luo_session_ser.file_set_ser.files
    data = _u64(gdb, files + 16 + 48)                              # luo_file_ser.data: memfd_luo_ser
    nr = _u64(gdb, data + 24)
    chunk = _u64(gdb, data + 32)                                   # folios.first (kho_vmalloc)
    if folio >= nr or chunk == 0:
        raise FaultError(f"the memfd has {nr} folios")
    array = _u64(gdb, chunk + 8) & ~0xFFF                          # the chunk's first page
    pfn = _u64(gdb, array + folio * 16) & ((1 << 52) - 1)          # memfd_luo_folio_ser pfn:52
    phys = pfn << 12
    blocks = [(int(b["phys"], 16), b["order"]) for b in report["memory"]["blocks"]]
    hit = [(p, o) for p, o in blocks if p <= phys < p + (4096 << o)]
    if not hit:
        raise FaultError(f"memfd folio {folio} at {phys:#x} is not preserved to begin with")
    byte, mask = _radix_leaf_bit(gdb, int(report["memory"]["map_head"], 16), *hit[0])
    gdb.write(byte, bytes([gdb.read(byte, 1, phys=True)[0] & ~mask]))
    return f"cleared the preserved bit of memfd folio {folio} at {phys:#x} (order {hit[0][1]})"


# name -> (function, scenario, arguments)
FAULTS = {
    "clear-preserved-bit": (clear_preserved_bit, "reserve-mem-1", {}),
    "swap-sub-blobs": (swap_sub_blobs, "reserve-mem-1", {}),
    "bump-compatible": (bump_compatible, "reserve-mem-1", {}),
    "bump-luo-compatible": (bump_compatible, "luo-memfd", {"client": "LUO", "old": b"luo-v5", "new": b"luo-v9"}),
    "shorten-blob-size": (shorten_blob_size, "reserve-mem-1", {}),
    "break-luo-chain": (break_luo_chain, "luo-memfd", {}),
    "clear-memfd-folio-bit": (clear_memfd_folio_bit, "luo-memfd", {}),
}
