"""Folders that are replaced whole: a saved model bundle or search index is either the old one or the new one,
never half, whenever the writing process is killed."""

from __future__ import annotations

import shutil
from pathlib import Path


def _aside(folder: Path) -> Path:
    return folder.with_name(folder.name + ".old")


def staging(folder: Path) -> Path:
    """An empty sibling to write the new folder into (a leftover from a killed run is cleared first)."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def replace_folder(new: Path, folder: Path) -> Path:
    """Put the finished folder ``new`` at ``folder``: the old one is renamed aside, the new one renamed in, the
    old one deleted. Each rename is atomic; a kill between them leaves the old folder aside, and
    :func:`recover_folder` (called by every reader) puts it back."""
    recover_folder(folder)
    old = _aside(folder)
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    new.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder


def recover_folder(folder: Path) -> None:
    """Undo a replacement that a killed process left between its two renames."""
    old = _aside(folder)
    if old.exists() and not folder.exists():
        old.rename(folder)
    elif old.exists():
        shutil.rmtree(old, ignore_errors=True)  # the new one made it in; the old one's deletion was cut short
