"""Small helpers shared by the tests (importable from test modules and subprocesses)."""


def address_in_regions(address, nbytes, regions, writable=None):
    """True when ``[address, address + nbytes)`` lies inside one of ``regions``
    (``(start, length, writable)`` tuples from ``IPCClient.mapped_regions``)."""
    for start, length, is_writable in regions:
        if writable is not None and is_writable != writable:
            continue
        if start <= address and address + nbytes <= start + length:
            return True
    return False


def proc_maps_entry(address):
    """The ``/proc/self/maps`` line whose range holds ``address`` as
    ``(perms, pathname)``, or ``None``."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(None, 5)
            low, high = (int(x, 16) for x in fields[0].split("-"))
            if low <= address < high:
                return fields[1], (fields[5].strip() if len(fields) > 5 else "")
    return None
