"""Keep the process's resident memory close to what it really uses.

Update requests parse large JSON bodies (a rebuild sends batches of CKAN
documents of ~25 KB each) on several threads. With glibc's default of one
malloc arena per thread, the freed memory stays fragmented across arenas and
RSS grows to several times the live heap. Fewer arenas plus an explicit trim
after each write hands that memory back to the system.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_ARENA_MAX = -8  # glibc's mallopt parameter number

_libc = None
_name = ctypes.util.find_library("c")
if _name:
    try:
        _libc = ctypes.CDLL(_name)
        _libc.mallopt  # noqa: B018 (glibc only: musl and others lack these)
        _libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        _libc = None


def limit_arenas(count: int = 2) -> None:
    """Call before the server starts its threads."""
    if _libc is not None:
        _libc.mallopt(M_ARENA_MAX, count)


def trim() -> None:
    """Return freed heap pages to the operating system."""
    if _libc is not None:
        _libc.malloc_trim(0)
