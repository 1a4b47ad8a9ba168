"""What kind of thing a path names, for one-line errors about inputs that are not regular files.

Reading a directory raises ``IsADirectoryError`` deep inside a library, and opening a FIFO (named pipe) for
reading blocks until something writes to it: every input path of every command line is checked with
:func:`not_a_file` before it is opened.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["NOT_FOUND", "not_a_file"]

NOT_FOUND = "does not exist"


def not_a_file(path: str | Path) -> str | None:
    """``None`` when ``path`` is a regular file (or a link to one); otherwise why not, e.g. ``"is a directory,
    not a file"`` or :data:`NOT_FOUND`, ready to follow "it" in a message."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return NOT_FOUND
    except ValueError:  # an embedded NUL byte
        return "is not a valid path (it contains a NUL byte)"
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a file"
    return "is a device, not a file"
