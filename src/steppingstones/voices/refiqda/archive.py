"""Reading a ``.qdpx`` ZIP archive defensively.

A ``.qdpx`` file comes from outside, so before anything is decompressed the archive's
directory is checked: no entry may leave the archive (absolute path, drive letter, ``..``),
be a symbolic link or be encrypted, appear twice, or push the number of entries, the total
uncompressed size or the compression ratio of a large entry past a limit (a "zip bomb").
While an entry is read, the bytes actually produced are counted in chunks against the same
limits, so a directory that lies about sizes gains nothing. Nothing is written to disk.
"""

from __future__ import annotations

import io
import lzma
import os
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from .xmltree import RefiQdaError

MAX_TOTAL_BYTES = 512 * 1024 * 1024
"""Default limit on the uncompressed size of all entries together (512 MiB)."""
MAX_FILES = 10_000
"""Default limit on the number of entries."""
MAX_RATIO = 200
"""Default limit on uncompressed/compressed size of an entry larger than RATIO_FLOOR."""
RATIO_FLOOR = 1024 * 1024
"""Entries up to this uncompressed size are exempt from the ratio check (a small file of
repeated characters compresses very well and is harmless)."""

_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Limits:
    max_total_bytes: int = MAX_TOTAL_BYTES
    max_files: int = MAX_FILES
    max_ratio: float = MAX_RATIO


def _bad_name(name: str) -> bool:
    if not name or "\x00" in name:
        return True
    unified = name.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        return True
    return any(part == ".." for part in unified.split("/"))


class SafeArchive:
    """The entries of a checked archive, read with running size limits."""

    def __init__(
        self, source: bytes | str | os.PathLike[str], *, label: str, limits: Limits
    ) -> None:
        self.label = label
        self.limits = limits
        self._read_total = 0
        try:
            if isinstance(source, bytes | bytearray):
                self._zip = zipfile.ZipFile(io.BytesIO(source))
            else:
                self._zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
            raise RefiQdaError(
                f"{label}: not a readable ZIP archive, as a .qdpx file must be ({exc})"
            ) from None
        self.entries: dict[str, zipfile.ZipInfo] = {}
        self._check_directory()

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SafeArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_directory(self) -> None:
        label, limits = self.label, self.limits
        infos = self._zip.infolist()
        if len(infos) > limits.max_files:
            raise RefiQdaError(
                f"{label}: the archive has {len(infos)} entries, more than the "
                f"{limits.max_files} allowed"
            )
        total = 0
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            if _bad_name(name):
                raise RefiQdaError(f"{label}: entry {name!r} leaves the archive")
            mode = info.external_attr >> 16
            if info.create_system == 3 and stat.S_ISLNK(mode):
                raise RefiQdaError(f"{label}: entry {name!r} is a symbolic link")
            if info.flag_bits & 0x1:
                raise RefiQdaError(f"{label}: entry {name!r} is encrypted")
            if info.is_dir():
                continue
            key = name.replace("\\", "/").casefold()
            if key in seen:
                raise RefiQdaError(f"{label}: entry {name!r} appears twice in the archive")
            seen.add(key)
            total += info.file_size
            if total > limits.max_total_bytes:
                raise RefiQdaError(
                    f"{label}: the archive unpacks to more than {limits.max_total_bytes:,} bytes"
                    f" (entry {name!r} alone declares {info.file_size:,}); refused as a "
                    "possible zip bomb"
                )
            if info.file_size > RATIO_FLOOR and (
                info.file_size > limits.max_ratio * max(info.compress_size, 1)
            ):
                raise RefiQdaError(
                    f"{label}: entry {name!r} is compressed more than {limits.max_ratio:g}:1 "
                    f"({info.file_size:,} bytes from {info.compress_size:,}); refused as a "
                    "possible zip bomb"
                )
            self.entries[name] = info

    def names(self) -> Iterator[str]:
        return iter(self.entries)

    def read(self, name: str) -> bytes:
        """An entry's bytes, counted in chunks against the declared size and the limits."""
        info = self.entries[name]
        label, limits = self.label, self.limits
        out = bytearray()
        try:
            with self._zip.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    out += chunk
                    self._read_total += len(chunk)
                    if len(out) > info.file_size:
                        raise RefiQdaError(
                            f"{label}: entry {name!r} unpacks to more than the "
                            f"{info.file_size:,} bytes its directory entry declares"
                        )
                    if self._read_total > limits.max_total_bytes:
                        raise RefiQdaError(
                            f"{label}: the archive unpacks to more than "
                            f"{limits.max_total_bytes:,} bytes; refused as a possible zip bomb"
                        )
                    if len(out) > RATIO_FLOOR and (
                        len(out) > limits.max_ratio * max(info.compress_size, 1)
                    ):
                        raise RefiQdaError(
                            f"{label}: entry {name!r} is compressed more than "
                            f"{limits.max_ratio:g}:1; refused as a possible zip bomb"
                        )
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            raise RefiQdaError(f"{label}: entry {name!r} is damaged ({exc})") from None
        except (NotImplementedError, RuntimeError) as exc:  # unsupported method, password
            raise RefiQdaError(f"{label}: entry {name!r} cannot be read ({exc})") from None
        return bytes(out)


def basename(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).name
