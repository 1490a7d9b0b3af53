"""The process's C allocator: tuned once at start, and freed memory given back on request."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap

import pytest

from app.runtime import release_free_memory

glibc_only = pytest.mark.skipif(sys.platform != "linux" or platform.libc_ver()[0] != "glibc",
                                reason="glibc's malloc")


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@glibc_only
def test_holes_left_in_the_heap_go_back_to_the_system() -> None:
    # 150 MB of blocks too big for Python's own allocator (so malloc's), one in 16 kept: free()
    # can give back only the heap's top, which a kept block holds.
    blocks = [bytes(4000) for _ in range(40_000)]
    kept = blocks[::16]
    del blocks
    before = _rss_kb()
    assert release_free_memory()
    after = _rss_kb()
    assert before - after > 50_000, (before, after)  # kB
    assert len(kept) == 2500


@glibc_only
def test_the_allocator_keeps_big_blocks_out_of_the_heap_after_tuning() -> None:
    # In a fresh process (arenas and thresholds are process-wide): glibc's own threshold rises to
    # the size of a big block freed, so the next big blocks come from the heap; tuned, they
    # never do.
    code = textwrap.dedent("""
        import ctypes, sys
        from app.runtime import tune_allocator
        if sys.argv[1] == "tuned":
            assert tune_allocator()
        libc = ctypes.CDLL("libc.so.6")
        class MI(ctypes.Structure):
            _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                        "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
        libc.mallinfo2.restype = MI
        first = bytearray(8 << 20)  # 8 MiB: mmapped either way
        del first
        blocks = [bytearray(1 << 20) for _ in range(20)]  # 20 × 1 MiB
        print(libc.mallinfo2().hblks)
    """)
    counts = {}
    for mode in ("default", "tuned"):
        out = subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, check=True,
                             timeout=60)
        counts[mode] = int(out.stdout.split()[-1])
    assert counts["tuned"] >= 20, counts  # each 1 MiB block mapped on its own
    assert counts["default"] < 20, counts  # glibc's rising threshold put them in the heap

