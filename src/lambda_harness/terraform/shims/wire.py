"""Protocol Buffers wire format, by hand, for the few tfplugin6 messages the archive shim speaks.

Field numbers are Terraform's ``docs/plugin-protocol/tfplugin6.proto`` (MPL-2.0), e.g.
``ReadDataSource.Request { string type_name = 1; DynamicValue config = 2; }``. Writing ~60 lines
of varints and length-delimited fields spares a protobuf runtime and generated code whose
version must match it.
"""

from __future__ import annotations

from collections.abc import Iterable

VARINT = 0
LENGTH = 2


def varint(value: int) -> bytes:
    """A base-128 varint (negative numbers as 64-bit two's complement, as protobuf does)."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_bytes(number: int, data: bytes) -> bytes:
    """A length-delimited field (string, bytes or an embedded message)."""
    return varint(number << 3 | LENGTH) + varint(len(data)) + data


def field_str(number: int, text: str) -> bytes:
    return field_bytes(number, text.encode()) if text else b""


def field_int(number: int, value: int) -> bytes:
    """A varint field (int64, enum, bool); zero is the default and is not written."""
    return varint(number << 3 | VARINT) + varint(int(value)) if value else b""


def message(*parts: bytes | Iterable[bytes]) -> bytes:
    """Concatenate encoded fields (nested iterables flattened)."""
    out = bytearray()
    for part in parts:
        if isinstance(part, bytes | bytearray):
            out += part
        else:
            for item in part:
                out += item
    return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def parse(data: bytes) -> dict[int, list[bytes | int]]:
    """Field number -> values (bytes for length-delimited, int for varints; others skipped)."""
    fields: dict[int, list[bytes | int]] = {}
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, kind = key >> 3, key & 7
        if kind == VARINT:
            value, pos = _read_varint(data, pos)
            fields.setdefault(number, []).append(value)
        elif kind == LENGTH:
            size, pos = _read_varint(data, pos)
            fields.setdefault(number, []).append(data[pos : pos + size])
            pos += size
        elif kind == 1:  # 64-bit
            pos += 8
        elif kind == 5:  # 32-bit
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {kind}")
    return fields


def first_bytes(fields: dict[int, list[bytes | int]], number: int) -> bytes:
    """The first length-delimited value of a field, or b""."""
    for value in fields.get(number, []):
        if isinstance(value, bytes):
            return value
    return b""
