"""The clearinghouse as a folder exchange (the shape most clearinghouses offer over SFTP).

    <root>/outbound/             837 files we write (temp file, then rename: a reader never sees half)
    <root>/inbound/              999, 277CA and 835 files the clearinghouse (or the payer simulator) drops
    <root>/inbound/processed/    inbound files ingested
    <root>/inbound/rejected/     inbound files refused, each with a `<name>.reason.txt` beside it

An SFTP adapter can offer the same four operations.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from claims.application.ports import InboundItem

log = logging.getLogger(__name__)

_TEMP_SUFFIX = ".part"

# The largest inbound file read, by the folder as by the API (a 250,000-claim 835 is about 37 MiB):
# a larger one goes to rejected/ unread, so no file can make the service hold more than this.
MAX_INBOUND_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class InboundFile:
    path: Path
    content: bytes

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


class FolderClearinghouse:
    """Implements the application's Outbox and Inbox on a local (or mounted) folder."""

    def __init__(self, root: str | Path, *, max_file_bytes: int = MAX_INBOUND_FILE_BYTES) -> None:
        self.root = Path(root)
        self.max_file_bytes = max_file_bytes
        self.outbound = self.root / "outbound"
        self.inbound = self.root / "inbound"
        self.processed_dir = self.inbound / "processed"
        self.rejected_dir = self.inbound / "rejected"

    def ensure_folders(self) -> None:
        for folder in (self.outbound, self.inbound, self.processed_dir, self.rejected_dir):
            folder.mkdir(parents=True, exist_ok=True)

    def outbound_exists(self, name: str) -> bool:
        return (self.outbound / name).exists()

    def write_outbound(self, name: str, content: str) -> Path:
        """Write atomically: same name again replaces the file whole (rename is atomic on POSIX)."""
        self.outbound.mkdir(parents=True, exist_ok=True)
        target = self.outbound / name
        temp = self.outbound / f".{name}{_TEMP_SUFFIX}"
        with open(temp, "w", encoding="ascii", newline="") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
        _fsync_folder(self.outbound)
        return target

    def purge_outbound(self, name: str) -> bool:
        """Remove an 837 we wrote (a forgotten patient's); True when there was one. Its claims' 837s
        stay sealed in the database under the patients' keys."""
        path = self.outbound / Path(name).name  # a name, never a path out of the folder
        if not path.exists():
            return False
        path.unlink()
        _fsync_folder(self.outbound)
        return True

    def inbound_files(self) -> Iterator[InboundFile]:
        """Complete files waiting in the inbound folder, oldest first, each read when it is its turn
        (ten large files waiting are never in memory together); temp and hidden files are skipped,
        and a file over max_file_bytes goes to rejected/ unread, with the reason."""
        if not self.inbound.exists():
            return
        paths = [
            p
            for p in self.inbound.iterdir()
            if p.is_file() and not p.name.startswith(".") and not p.name.endswith((_TEMP_SUFFIX, ".tmp"))
        ]
        paths.sort(key=lambda p: (p.stat().st_mtime, p.name))
        for path in paths:
            try:
                size = path.stat().st_size
                if size > self.max_file_bytes:
                    reason = (
                        f"the file is {size / 2**20:.1f} MiB, over the {self.max_file_bytes / 2**20:g} MiB "
                        "an inbound file may be: ask the sender to split it; it was not read"
                    )
                    log.warning("inbound file refused", extra={"file_name": path.name, "reason": reason})
                    self.mark_rejected(InboundFile(path, b""), reason)
                    continue
                content = path.read_bytes()
            except FileNotFoundError:
                continue  # moved away meanwhile (another replica took it)
            yield InboundFile(path, content)

    def mark_processed(self, file: InboundFile) -> Path:
        return self._move(file.path, self.processed_dir)

    def mark_rejected(self, file: InboundFile, reason: str) -> Path:
        moved = self._move(file.path, self.rejected_dir)
        (self.rejected_dir / f"{moved.name}.reason.txt").write_text(reason + "\n", encoding="utf-8")
        return moved

    # The application's Inbox.

    def waiting(self) -> Iterator[InboundItem]:
        for file in self.inbound_files():
            yield InboundItem(file.name, file.content, file.sha256)

    def processed(self, item: InboundItem) -> None:
        self.mark_processed(InboundFile(self.inbound / item.name, item.content))

    def rejected(self, item: InboundItem, reason: str) -> None:
        self.mark_rejected(InboundFile(self.inbound / item.name, item.content), reason)

    def _move(self, path: Path, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / path.name
        counter = 1
        while target.exists():  # a second file of the same name keeps both
            target = folder / f"{path.stem}.{counter}{path.suffix}"
            counter += 1
        shutil.move(str(path), target)
        os.utime(target)  # the retention (adapters/file_retention.py) counts from being done with it
        return target


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
