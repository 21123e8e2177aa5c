"""What ``uno-migrations create`` writes: a new migration file from one of the templates here.

The templates (``python.py.tmpl``, ``class.py.tmpl``, ``sql.sql.tmpl``) run as written: their up
and down steps hold only comments, so a fresh file applies and reverts as a no-op.

>>> slugify("Add User's Profile v1.2!")
'add_user_s_profile_v1_2'
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from string import Template

__all__ = ["KINDS", "create_migration_file", "next_version", "render", "slugify"]

#: ``--type`` -> (file extension, template file)
KINDS = {
    "python": ("py", "python.py.tmpl"),
    "class": ("py", "class.py.tmpl"),
    "sql": ("sql", "sql.sql.tmpl"),
}
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_VERSIONED = re.compile(r"(\d+)_[^.]*\.(?:py|sql)")


def slugify(name: str) -> str:
    """Lower-case ``name`` with every run of characters outside ``[a-z0-9]`` made one ``_``."""
    return _NOT_SLUG.sub("_", name.lower()).strip("_")


def next_version(directories: Sequence[str | os.PathLike[str]], now: float | None = None) -> int:
    """The current Unix time, or one more than the highest version already in ``directories``,
    whichever is greater: two files created in the same second still get distinct, ordered ids.
    """
    version = int(time.time() if now is None else now)
    for directory in directories:
        try:
            names = os.listdir(directory)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for name in names:
            match = _VERSIONED.fullmatch(name)
            if match:
                version = max(version, int(match.group(1)) + 1)
    return version


def render(kind: str, title: str, slug: str, dependencies: Sequence[str] = ()) -> str:
    """The text of a new migration of ``kind`` (``python``, ``class`` or ``sql``)."""
    _, template_name = KINDS[kind]
    template = Template(resources.files(__name__).joinpath(template_name).read_text(encoding="utf-8"))
    title = " ".join(title.split())
    literals = ", ".join(json.dumps(dep) for dep in dependencies)
    if kind == "python":
        block = f"\ndependencies = [{literals}]\n" if dependencies else ""
    elif kind == "sql":
        block = f"-- Dependencies: {', '.join(dependencies)}\n" if dependencies else ""
    else:
        block = ""
    return template.substitute(
        title=title,
        docstring=title.replace("\\", "\\\\").replace('"', '\\"'),
        name_literal=json.dumps(title, ensure_ascii=False),
        class_name=_class_name(slug),
        dependencies=block,
        dependency_literals=literals,
    )


def create_migration_file(
    directory: str | os.PathLike[str],
    name: str,
    kind: str = "python",
    dependencies: Sequence[str] = (),
    *,
    version: int,
) -> Path:
    """Write ``<version>_<slug>.<ext>`` into ``directory`` (created if needed); never overwrites.

    Raises :class:`ValueError` when ``name`` gives an empty slug and :class:`FileExistsError`
    when the file already exists.
    """
    slug = slugify(name)
    if not slug:
        raise ValueError(f"cannot make a file name from {name!r}: it needs a letter or a digit")
    extension, _ = KINDS[kind]
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{version}_{slug}.{extension}"
    text = render(kind, name, slug, dependencies)
    with open(path, "x", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    return path


def _class_name(slug: str) -> str:
    words = "".join(part.capitalize() for part in slug.split("_"))
    return f"Migration{words}" if words[:1].isdigit() else f"{words}Migration"
