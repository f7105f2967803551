"""How much memory this machine has free, so large requests are refused up front.

A request too large for the machine is refused with an error naming what was asked and
what it needs, before any of it is allocated, rather than failing part way with a
``MemoryError``.
"""

from __future__ import annotations

import os

__all__ = ["available_bytes"]


def available_bytes() -> int | None:
    """Memory this process may still take (Linux's MemAvailable), if the system says.

    Returns
    -------
    int or None
        Bytes free; ``None`` when the system does not say.
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None
