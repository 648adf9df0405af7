"""khospec vmtest: real kernels in the loop.

Boots a KHO kernel under QEMU, runs it through a kexec chain, and at every
hand-over checks the kernel's own view (``khospec validate --live`` inside the
guest), the memory the next kernel will read (a QMP core taken at
``machine_kexec``, validated on the host), and the model running the same
scenario. See docs/vmtest.md.
"""
