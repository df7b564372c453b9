"""Element types: numpy dtypes <-> the C++ spellings used in vineyard typenames.

Writers use the names C++'s ``vineyard::type_name<T>()`` gives (``src/common/util/typename.h``):
``int`` (int32), ``int64``, ``uint``, ``uint64``, ``float``, ``double``; other widths keep ``int8_t``….
Readers accept those, the spellings a C++ ``type_name<T>()`` produces on Linux (``int``,
``long``, ``unsigned long``…), vineyard's AnyType names (``int32``, ``float``, ``double``,
``string``…) and numpy names.
"""

import re

__all__ = ["cpp_name", "numpy_dtype", "template_argument", "STRING_TYPES"]

# numpy dtype name -> the C++ name written in typenames.
_NUMPY_TO_CPP = {
    "bool": "bool",
    "int8": "int8_t",
    "uint8": "uint8_t",
    "int16": "int16_t",
    "uint16": "uint16_t",
    "int32": "int",
    "uint32": "uint",
    "int64": "int64",
    "uint64": "uint64",
    "float32": "float",
    "float64": "double",
}

# any accepted spelling -> numpy dtype name.  Note: in C++ and in vineyard's AnyType
# "float" is 32-bit.
_TO_NUMPY = {
    "bool": "bool",
    "int8_t": "int8",
    "int8": "int8",
    "signed char": "int8",
    "char": "int8",
    "uint8_t": "uint8",
    "uint8": "uint8",
    "unsigned char": "uint8",
    "int16_t": "int16",
    "int16": "int16",
    "short": "int16",
    "uint16_t": "uint16",
    "uint16": "uint16",
    "unsigned short": "uint16",
    "int32_t": "int32",
    "int32": "int32",
    "int": "int32",
    "i32": "int32",
    "uint32_t": "uint32",
    "uint32": "uint32",
    "unsigned int": "uint32",
    "uint": "uint32",
    "uint_t": "uint32",
    "u32": "uint32",
    "int64_t": "int64",
    "int64": "int64",
    "long": "int64",
    "long int": "int64",
    "long long": "int64",
    "long long int": "int64",
    "i64": "int64",
    "uint64_t": "uint64",
    "uint64": "uint64",
    "unsigned long": "uint64",
    "unsigned long int": "uint64",
    "unsigned long long": "uint64",
    "u64": "uint64",
    "float": "float32",
    "float32": "float32",
    "double": "float64",
    "float64": "float64",
    "half": "float16",
    "float16": "float16",
}

#: spellings of a string element type.
STRING_TYPES = {"std::string", "string", "std::__cxx11::basic_string<char>", "str"}

_TEMPLATE = re.compile(r"^[^<]*<(.*)>\s*$")


def cpp_name(dtype):
    """The C++ element name for a numpy dtype (its numpy name when there is none)."""
    return _NUMPY_TO_CPP.get(dtype.name, dtype.name)


def template_argument(typename):
    """``"vineyard::Tensor<double>"`` -> ``"double"`` (``None`` without template)."""
    found = _TEMPLATE.match(typename or "")
    return found.group(1).strip() if found else None


_DTYPES = {}  # (name, meta) -> dtype: a get's hot path looks the same few spellings up


def numpy_dtype(name, meta=None):
    """The numpy dtype for an element spelling; ``meta`` (numpy ``dtype.str``) wins when it
    parses.  Returns ``None`` if nothing fits."""
    key = (name, meta)
    found = _DTYPES.get(key)
    if found is None:
        found = _numpy_dtype(name, meta)
        if found is not None and isinstance(name, (str, type(None))) and isinstance(meta, (str, type(None))) \
                and len(_DTYPES) < 1024:
            _DTYPES[key] = found
    return found


def _numpy_dtype(name, meta):
    import numpy as np

    if meta:
        try:
            return np.dtype(meta)
        except (TypeError, ValueError):   # numpy raises either for a spelling it does not know
            pass
    if not name:
        return None
    name = name.strip()
    mapped = _TO_NUMPY.get(name)
    if mapped is not None:
        return np.dtype(mapped)
    try:
        return np.dtype(name)
    except (TypeError, ValueError):
        return None
