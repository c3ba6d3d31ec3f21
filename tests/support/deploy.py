"""What the shipped deployment files and the guides name: the ``ROUNDS_*`` settings, the
``rounds`` commands in ``sh`` blocks and command lines, the guide's tested block, and which
process holds a TCP connection (from /proc)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any, get_type_hints

REPO = Path(__file__).resolve().parents[2]
SETTING = re.compile(r"\bROUNDS_[A-Z][A-Z0-9_]*[A-Z0-9]\b")


def setting_names() -> set[str]:
    """Every ``ROUNDS_*`` variable the settings read, from the dataclasses themselves (the
    way ``rounds.settings.load_settings`` names them)."""
    from rounds.settings import ENV_PREFIX, Settings

    def walk(cls: type[Any], prefix: str) -> Iterator[str]:
        hints = get_type_hints(cls)
        for f in fields(cls):
            kind = hints[f.name]
            if isinstance(kind, type) and hasattr(kind, "__dataclass_fields__"):
                yield from walk(kind, f"{prefix}{f.name.upper()}_")
            else:
                yield f"{prefix}{f.name.upper()}"

    return set(walk(Settings, ENV_PREFIX))


def sh_blocks(markdown: str) -> list[str]:
    """The bodies of the ```sh blocks of a Markdown text."""
    return re.findall(r"^```sh\n(.*?)^```", markdown, flags=re.M | re.S)


def marked_block(markdown: str, test: str) -> str:
    """The ```sh block right after ``<!-- tested: <test> -->``."""
    found = re.search(rf"<!-- tested: {re.escape(test)} -->\n```sh\n(.*?)^```", markdown,
                      flags=re.M | re.S)
    assert found, f"no sh block marked as tested by {test}"
    return found.group(1)


def rounds_commands(shell: str) -> list[list[str]]:
    """The arguments of every ``rounds`` command in shell text (``rounds`` or a path ending
    in ``/rounds``), one per simple command (a command run in the background, ``&``, too);
    comments and other commands are skipped."""
    found: list[list[str]] = []
    for line in shell.splitlines():
        words = shlex.split(line, comments=True)
        command: list[str] = []
        for word in [*words, ";"]:
            if word in ("&&", "||", ";", "|", "&"):
                if command and command[0].rsplit("/", 1)[-1] == "rounds":
                    found.append(command[1:])
                command = []
            else:
                command.append(word)
    return found


def parse_command(argv: list[str]) -> Any:
    """``argv`` parsed as ``rounds`` parses it; an argument it refuses fails the test,
    naming the command (argparse would only exit)."""
    from rounds.cli import parser

    try:
        return parser().parse_args(argv)
    except SystemExit:
        raise AssertionError(f"`rounds {shlex.join(argv)}` is not a command rounds "
                             "accepts") from None


def connection_holder(pids: set[int], server_port: int, client_port: int) -> int | None:
    """Which of ``pids`` holds the server's end of the TCP connection from ``client_port``
    to ``server_port`` on this machine (Linux /proc); None if none does (yet)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            cols = row.split()
            local, remote, inode = cols[1], cols[2], cols[9]
            if (int(local.rsplit(":", 1)[1], 16) == server_port
                    and int(remote.rsplit(":", 1)[1], 16) == client_port):
                inodes.add(f"socket:[{inode}]")
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    if str(fd.readlink()) in inodes:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    return None
