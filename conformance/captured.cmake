# Expected findings for real captures that the kernel itself wrote broken.
# Key: path relative to KHOSPEC_DUMPS_DIR; value: the rules that must fire.
#
# Linux 7.3 (kho-v4): debugfs out/fdt keeps the size the root FDT had at
# kho_init(), when only kexec-metadata existed (233 = 0xe9 bytes); subtrees
# added later grow totalsize, so the file is a truncated prefix
# (docs/kernel-abi.md §6; kernel/liveupdate/kexec_handover_debugfs.c). kho-only-2stage
# adds no subtree after kho_init(), so its capture is complete.
foreach(_scenario luo-memfd-2stage recursive-3stage reserve-mem-1-2stage reserve-mem-4-2stage
                  scratch-400pct-2stage scratch-explicit-2stage test-kho-2stage)
  set("KHOSPEC_CAPTURE_EXPECT_kho-v4-linux-7.3/${_scenario}/k1/out_fdt_debugfs.dtb" fdt_truncated)
endforeach()
