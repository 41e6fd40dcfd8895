"""Protocol Buffers' base-128 varints, read from and written to bytes: the one piece of its wire format that the
masking of protobuf strings and the reading of OTLP exports both need."""


def read_varint(data, position: int) -> tuple[int | None, int]:
    """The varint at `position` and the position after it; None where the bytes end inside it or it runs past ten
    bytes (64 bits)."""
    value, shift, end = 0, 0, len(data)
    while position < end and shift < 64:
        byte = data[position]
        value |= (byte & 0x7F) << shift
        position += 1
        if not byte & 0x80:
            return value, position
        shift += 7
    return None, position


def varint_bytes(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)
