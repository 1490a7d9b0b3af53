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
def test_threads_share_two_malloc_arenas_after_tuning() -> None:
    # In fresh processes (arenas are process-wide): glibc gives each new thread an arena of its own
    # (up to eight per core); tuned, eight threads share two. Counted in malloc_info's report.
    code = textwrap.dedent("""
        import ctypes, sys, threading
        from app.runtime import tune_allocator
        if sys.argv[1] == "tuned":
            assert tune_allocator()
        libc = ctypes.CDLL("libc.so.6")
        libc.open_memstream.restype = ctypes.c_void_p
        libc.open_memstream.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t)]
        libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
        libc.fclose.argtypes = [ctypes.c_void_p]
        barrier = threading.Barrier(8)
        def work():
            barrier.wait()
            kept = [bytes(4000) for _ in range(100)]  # malloc's (above Python's small-object size)
            barrier.wait()
        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        buf, size = ctypes.c_char_p(), ctypes.c_size_t()
        fp = libc.open_memstream(ctypes.byref(buf), ctypes.byref(size))
        libc.malloc_info(0, fp)
        libc.fclose(fp)
        print(buf.value.decode().count("<heap nr="))
    """)
    arenas = {}
    for mode in ("default", "tuned"):
        out = subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, check=True,
                             timeout=60)
        arenas[mode] = int(out.stdout.split()[-1])
    assert arenas["tuned"] <= 2, arenas
    assert arenas["default"] > 2, arenas
