"""Address of a buffer-protocol object, with the standard library only.

``ctypes.c_char.from_buffer`` needs a writable buffer; a read-only mapping has none.  This
helper asks CPython for the ``Py_buffer`` of any object (read-only included) and reads its
``buf`` pointer.
"""

import ctypes

__all__ = ["buffer_address"]


class _PyBuffer(ctypes.Structure):
    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.py_object),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.POINTER(ctypes.c_ssize_t)),
        ("strides", ctypes.POINTER(ctypes.c_ssize_t)),
        ("suboffsets", ctypes.POINTER(ctypes.c_ssize_t)),
        ("internal", ctypes.c_void_p),
    ]


_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
_get_buffer.restype = ctypes.c_int
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.argtypes = [ctypes.POINTER(_PyBuffer)]
_release_buffer.restype = None

_PyBUF_SIMPLE = 0
_PyBUF_STRIDES = 0x0018  # enough for non-contiguous memoryviews too


def buffer_address(obj):
    """Start address of ``obj``'s buffer (for a memoryview: of its first byte)."""
    view = _PyBuffer()
    flags = _PyBUF_STRIDES if isinstance(obj, memoryview) else _PyBUF_SIMPLE
    if _get_buffer(obj, ctypes.byref(view), flags) != 0:  # pragma: no cover - raises instead
        raise TypeError("object does not export a buffer")
    try:
        return view.buf or 0
    finally:
        _release_buffer(ctypes.byref(view))
