"""Framing of messages between grader, zygote and child: a JSON header plus raw tensor bytes.

Nothing crossing a process boundary is ever pickled. A frame is ``u32 header length | u64 body
length | header (UTF-8 JSON) | body``; tensors travel as ``{"dtype", "shape", "offset", "nbytes"}``
entries of the header pointing into the body. The grader decodes what a child sends with
``decode_tensor``, which checks the dtype against an allow-list and the sizes against caps before it
copies a single byte into a tensor.
"""

from __future__ import annotations

import functools
import json
import os
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

_PREFIX = struct.Struct("<IQ")

DTYPE_NAMES = ("float16", "bfloat16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool")


@functools.cache
def dtypes() -> dict[str, torch.dtype]:
    """Allowed dtypes by name. torch is imported lazily: the grader starts its zygote before paying for it."""
    import torch

    return {name: getattr(torch, name) for name in DTYPE_NAMES}


@functools.cache
def _names() -> dict[torch.dtype, str]:
    return {dtype: name for name, dtype in dtypes().items()}

MAX_HEADER_BYTES = 4 * 1024 * 1024
MAX_DIMS = 8


class ChannelError(Exception):
    """What a peer sent is not a well-formed frame (or breaks a cap)."""

    frames: list[Frame] = []  # good frames parsed before the bad bytes, when raised by FrameReader.feed


@dataclass
class Frame:
    header: dict[str, Any]
    body: bytes


class TensorWriter:
    """Collects tensors into one body, handing out header entries that point into it."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._size = 0

    def add(self, tensor: torch.Tensor) -> dict[str, Any]:
        import torch

        with torch._C.DisableTorchFunctionSubclass():
            plain = torch.Tensor.detach(tensor).cpu().contiguous()
        name = _names().get(plain.dtype)
        if name is None:
            raise ChannelError(f"dtype {plain.dtype} cannot be sent")
        nbytes = plain.numel() * plain.element_size()
        # Through NumPy rather than ctypes.string_at: in a child, every ctypes call raises an audit event.
        data = plain.reshape(-1).view(torch.uint8).numpy().tobytes() if nbytes else b""
        entry = {"dtype": name, "shape": list(plain.shape), "offset": self._size, "nbytes": nbytes}
        self._chunks.append(data)
        self._size += nbytes
        return entry

    @property
    def size(self) -> int:
        return self._size

    def body(self) -> bytes:
        return b"".join(self._chunks)


def encode_frame(header: dict[str, Any], body: bytes = b"") -> bytes:
    raw = json.dumps(header, separators=(",", ":"), allow_nan=True).encode()
    return _PREFIX.pack(len(raw), len(body)) + raw + body


def write_frame(fd: int, header: dict[str, Any], body: bytes = b"") -> None:
    data = memoryview(encode_frame(header, body))
    while data:
        written = os.write(fd, data)
        data = data[written:]


class FrameReader:
    """Incremental frame parser for a non-blocking reader: feed bytes, take complete frames.

    ``max_body`` caps the total body bytes accepted over the reader's life, so a child cannot make the
    grader buffer more than that.
    """

    def __init__(self, max_body: int) -> None:
        self._buffer = bytearray()
        self._max_body = max_body
        self._body_total = 0

    def feed(self, data: bytes) -> list[Frame]:
        """Complete frames so far. Malformed input raises ``ChannelError`` carrying, in ``frames``, the
        good frames that came before it in this chunk (they are evidence too)."""
        frames: list[Frame] = []
        try:
            self._parse(data, frames)
        except ChannelError as exc:
            exc.frames = frames
            raise
        return frames

    def _parse(self, data: bytes, frames: list[Frame]) -> None:
        self._buffer += data
        while len(self._buffer) >= _PREFIX.size:
            header_len, body_len = _PREFIX.unpack_from(self._buffer)
            if header_len > MAX_HEADER_BYTES:
                raise ChannelError(f"header of {header_len} bytes exceeds the cap")
            if self._body_total + body_len > self._max_body:
                raise ChannelError(f"the code sent back more than {self._max_body // 2**20} MiB of results "
                                   "(a huge return value?)")
            end = _PREFIX.size + header_len + body_len
            if len(self._buffer) < end:
                break
            raw_header = bytes(self._buffer[_PREFIX.size : _PREFIX.size + header_len])
            body = bytes(self._buffer[_PREFIX.size + header_len : end])
            del self._buffer[:end]
            self._body_total += body_len
            try:
                header = json.loads(raw_header.decode())
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ChannelError(f"header is not JSON: {exc}") from None
            if not isinstance(header, dict):
                raise ChannelError("header is not a JSON object")
            frames.append(Frame(header, body))

    @property
    def pending(self) -> int:
        return len(self._buffer)


def read_frame_blocking(fd: int, max_body: int) -> Frame | None:
    """Read exactly one frame from a blocking fd (used by the zygote and the child)."""
    reader = FrameReader(max_body)
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            if reader.pending:
                raise ChannelError("connection closed inside a frame")
            return None
        frames = reader.feed(chunk)
        if frames:
            return frames[0]


def decode_tensor(entry: Any, body: bytes, *, max_elements: int = 50_000_000) -> torch.Tensor:
    """Build a fresh tensor from an untrusted header entry, validating everything first."""
    import torch

    if not isinstance(entry, dict):
        raise ChannelError("tensor entry is not an object")
    dtype = dtypes().get(entry.get("dtype"))  # type: ignore[arg-type]
    if dtype is None:
        raise ChannelError(f"dtype {entry.get('dtype')!r} is not allowed")
    shape = entry.get("shape")
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_DIMS
        or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d for d in shape)
    ):
        raise ChannelError(f"bad shape {shape!r}")
    numel = 1
    for d in shape:
        numel *= d
    if numel > max_elements:
        raise ChannelError(f"{numel} elements exceed the cap of {max_elements}")
    itemsize = torch.empty((), dtype=dtype).element_size()
    offset, nbytes = entry.get("offset"), entry.get("nbytes")
    if not isinstance(offset, int) or not isinstance(nbytes, int) or offset < 0:
        raise ChannelError("bad offset or size")
    if nbytes != numel * itemsize or offset + nbytes > len(body):
        raise ChannelError("tensor size does not match its shape")
    if numel == 0:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(body[offset : offset + nbytes]), dtype=dtype).reshape(shape)
