"""Output folders and files of the `bnnmram` commands: checked before any work, written
atomically, committed as one consistent set.

Every command names its outputs up front (`OutputDir(path, command, files)`), which
- refuses at once a path that is a file, an unwritable folder or a full disk (one line),
  and creates nothing until the first output is written;
- refuses to replace files that another command, or somebody else, wrote there (the folder's
  `.bnnmram.json` stamp says which command wrote which files);
- writes each file to a temporary name beside its target and renames the whole set in one
  commit, with Ctrl-C held off for the few renames, so an interrupted or failed run leaves
  the previous set (or nothing) and never a mix of old and new files.
"""
import contextlib
import json
import os
import shutil
import signal
import tempfile
from pathlib import Path

from bnnmram.models.errors import BnnMramError

STAMP = ".bnnmram.json"
MIN_FREE_BYTES = 16 << 20  # refuse to start a command on a disk with less room than this


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists():
        if p.parent == p:
            break
        p = p.parent
    return p


def check_room(folder: Path, flag: str = "--out", given: Path | None = None):
    """One line if `folder` (an existing directory) cannot take new files; `given` is the
    path the user named (folder itself, or a path to be created below it)."""
    where = f"{flag} {given or folder}" + (f": {folder}" if given and given != folder else "")
    try:
        fd, probe = tempfile.mkstemp(prefix=".bnnmram-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise BnnMramError(f"{where} is not writable ({e.strerror})") from None
    try:
        free = shutil.disk_usage(folder).free
    except OSError as e:
        raise BnnMramError(f"{where} cannot be used ({e.strerror})") from None
    if free < MIN_FREE_BYTES:
        raise BnnMramError(f"{where}: no space left on its disk ({free >> 10} KiB free)")


def check_dir(path, flag: str = "--out") -> Path:
    """Before any work: `path` is, or can become, a writable folder on a disk with room.
    Nothing is created (make_dir does that when the first output is written)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise BnnMramError(f"{flag} {path} is a file; a folder is needed there")
    base = _nearest_existing(path)
    if not base.is_dir():
        raise BnnMramError(f"{flag} {path}: {base} is a file, so no folder can be made there")
    check_room(base, flag, path)
    return path


def make_dir(path, flag: str = "--out") -> Path:
    """Create the folder `path` (and parents), or one line naming why not."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BnnMramError(f"{flag} {path}: cannot create the folder ({e.strerror})") from None
    return path


def check_file_target(path, suffix: str, flag: str = "--out") -> Path:
    """An output file path: the right suffix, not a folder, its folder writable."""
    path = Path(path)
    if path.suffix != suffix:
        raise BnnMramError(f"{flag} {path} must end in {suffix}")
    if path.is_dir():
        raise BnnMramError(f"{flag} {path} is a folder; a file name ending in {suffix} is needed")
    base = _nearest_existing(path.parent)
    if not base.is_dir():
        raise BnnMramError(f"{flag} {path}: {base} is a file, so no folder can be made there")
    check_dir(path.parent, flag)
    return path


def check_owned_file(path, suffix: str, is_ours, command: str, flag: str = "--out") -> Path:
    """An output file target (check_file_target) that, if it exists, may be replaced only when
    `is_ours(path)` finds it is an earlier result of `bnnmram COMMAND`."""
    path = check_file_target(path, suffix, flag)
    if path.exists():
        try:
            ours = bool(is_ours(path))
        except Exception:
            ours = False
        if not ours:
            raise BnnMramError(f"{flag} {path} exists and is not a `bnnmram {command}` result; "
                               f"move it or choose another {flag}")
    return path


COMMITTED: list[Path] = []   # folders whose new set this process has renamed into place


def interrupt_text() -> str:
    """What an interrupted command leaves, for its one line: the folders whose complete new
    set was committed, every other output unchanged."""
    if not COMMITTED:
        return "interrupted; no outputs were replaced (the previous set stays)"
    where = ", ".join(str(p) for p in COMMITTED)
    return f"interrupted; the complete new outputs are in {where} (any other outputs are unchanged)"


@contextlib.contextmanager
def _interrupts_held():
    """Defer SIGINT/SIGTERM while a set of renames runs (main thread only)."""
    got = []
    try:
        old = {s: signal.signal(s, lambda n, f: got.append(n)) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: nothing to hold
        yield
        return
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if got:
            raise KeyboardInterrupt


def _tmp_name(target: Path) -> Path:
    make_dir(target.parent)
    # hidden, and ending in the target's suffix (libraries that pick a format by suffix agree)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".part{target.suffix}", dir=target.parent)
    os.close(fd)
    return Path(tmp)


def write_file_atomic(path, data: bytes | str):
    """Write one file via a temporary name and a rename (fsync'd first)."""
    path = Path(path)
    tmp = _tmp_name(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise BnnMramError(f"cannot write {path} ({e.strerror})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class OutputDir:
    """The output folder of one command and the files it will (re)write there.

    `files` are names relative to the folder; `owners` lists the commands whose files this
    one may replace (by default only itself)."""

    def __init__(self, path, command: str, files: list[str], *, owners=None, flag: str = "--out"):
        self.path, self.command, self.files, self.flag = Path(path), command, list(files), flag
        self.owners = set(owners or ()) | {command}
        self._staged: dict[str, Path] = {}

    def stamp(self) -> dict:
        p = self.path / STAMP
        if not p.is_file():
            return {}
        try:
            doc = json.loads(p.read_text())
            return doc if isinstance(doc, dict) and isinstance(doc.get("files"), dict) else {}
        except (OSError, ValueError):
            return {}

    def check(self) -> "OutputDir":
        """Before any work: the folder can be written and holds nothing we may not replace."""
        check_dir(self.path, self.flag)
        written_by = self.stamp().get("files", {})
        for name in self.files:
            p = self.path / name
            if p.is_dir():
                raise BnnMramError(f"{self.flag} {self.path}: {p} is a folder; bnnmram {self.command} "
                                   "writes a file of that name")
            if p.exists() and written_by.get(name) not in self.owners:
                raise BnnMramError(f"{self.flag} {self.path}: {name} exists and was not written by "
                                   f"`bnnmram {self.command}`; move it or choose another {self.flag}")
        return self

    def stage(self, name: str) -> Path:
        """A temporary path to write `name` to; it becomes `name` at commit()."""
        if name not in self.files:
            raise ValueError(f"{name} is not one of the declared outputs {self.files}")
        if name not in self._staged:
            self._staged[name] = _tmp_name(self.path / name)
        return self._staged[name]

    def write(self, name: str, data: bytes | str):
        try:
            with open(self.stage(name), "wb") as fh:
                fh.write(data.encode() if isinstance(data, str) else data)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as e:
            self.discard()
            raise BnnMramError(f"cannot write {self.path / name} ({e.strerror})") from None

    def discard(self):
        for tmp in self._staged.values():
            tmp.unlink(missing_ok=True)
        self._staged.clear()

    def commit(self):
        """Rename every staged file into place, Ctrl-C held off; record who wrote them."""
        missing = [n for n in self.files if n not in self._staged]
        if missing:
            self.discard()
            raise RuntimeError(f"outputs never written: {missing}")
        doc = self.stamp() or {"files": {}}
        doc["files"].update({n: self.command for n in self.files})
        stamp_tmp = _tmp_name(self.path / STAMP)
        stamp_tmp.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        with _interrupts_held():
            for name, tmp in self._staged.items():
                os.replace(tmp, self.path / name)
            os.replace(stamp_tmp, self.path / STAMP)
            if self.path not in COMMITTED:
                COMMITTED.append(self.path)
        self._staged.clear()

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is not None:
            self.discard()
            if issubclass(kind, OSError):  # e.g. the disk filled up while writing
                raise BnnMramError(f"cannot write the outputs in {self.path} ({value.strerror or value}); "
                                   "the previous outputs are unchanged") from None
        return False
