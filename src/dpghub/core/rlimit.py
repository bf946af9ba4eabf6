"""A child process's memory wall: an address-space limit (RLIMIT_AS) of a given size on top of
what the process holds once its libraries are loaded. Children that read untrusted files
(lake.confine) or model data (the testbed's synthesizer) set it on themselves, so running out
takes down only the child."""

from __future__ import annotations

import sys


def address_space() -> int | None:
    """Bytes of address space this process holds now (Linux), or None."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def limit_memory(memory_mb: int) -> None:
    """Where the system has no such limit (Windows; macOS ignores it), the child still keeps
    its work away from the hub's own process."""
    try:
        import resource
    except ImportError:
        return
    held = address_space()
    if held is None:  # no /proc: allow the libraries a generous, fixed share
        held = 2 << 30
    limit = held + (memory_mb << 20)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):
        sys.stderr.write("dpghub: this system refused a memory limit for the child process\n")
