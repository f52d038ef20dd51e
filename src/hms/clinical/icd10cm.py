"""The ICD-10-CM code set as a compact index, read from the data files of `simple-icd-10-cm`.

The package keeps the CMS code list and tabular XML up to date, but importing it builds a tree
of Python objects with every note of every code: about 180 MB and five seconds per process. The
index keeps only what a diagnosis check needs (each name, whether it is a heading, its title)
and reads the same two files with the same rules as the package, so it answers as the package
does: names are the package's own, chapters and blocks are headings, and 7th-character codes
exist where the tabular list defines the character and the code list confirms the code. The
package is located without being imported, so its tree is never built in a server.
"""

from __future__ import annotations

import gc
import importlib.resources
import importlib.util
import threading
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from xml.parsers import expat

PACKAGE = "simple_icd_10_cm"

# A 7th-character code's title is its parent's title and the character's meaning, so one pair
# per parent code stands for all its extensions (half the code set) instead of a title each.
_Extended = tuple[str, dict[str, str]]


@dataclass(frozen=True, slots=True)
class CodeSet:
    """The names of the code set: codes (`A00`, `A00.0`, `S00.00XA`), headings (`1`, `A00-A09`)."""

    entries: dict[str, str | _Extended]
    headings: frozenset[str]

    def find(self, code: str) -> str | None:
        """The name `code` stands for: with a dot after its third character if that is one, else
        as written (the package's order), or None."""
        if len(code) >= 4 and code[3] != ".":
            dotted = f"{code[:3]}.{code[3:]}"
            if dotted in self.entries:
                return dotted
        return code if code in self.entries else None

    def is_heading(self, name: str) -> bool:
        return name in self.headings

    def title(self, name: str) -> str:
        entry = self.entries[name]
        if isinstance(entry, str):
            return entry
        parent_title, characters = entry
        return f"{parent_title}, {characters[name[-1]]}"


class _Node:
    """A chapter, block or code while its XML element is open."""

    __slots__ = ("characters", "defines", "has_children", "inherited", "name", "tag", "title")

    def __init__(self, tag: str, name: str, inherited: _Node | None) -> None:
        self.tag = tag
        self.name = name
        self.title = ""
        self.has_children = False
        self.characters: dict[str, str] = {}
        self.defines = False
        # The nearest enclosing node whose 7th characters had been read when this one opened.
        self.inherited = inherited

    def passed_on(self) -> _Node | None:
        """What a child opening now inherits: this node once its characters have been read."""
        return self if self.defines else self.inherited


class _TabularReader:
    """Reads the tabular list in one pass, applying the package's rules as each element closes.

    Only the text of names, titles and 7th characters is collected, and only up to an element's
    first child (ElementTree's `text`, which the package reads).
    """

    def __init__(self, confirmed: set[str]) -> None:
        self.confirmed = confirmed
        self.entries: dict[str, str | _Extended] = {}
        self.headings: set[str] = set()
        self.parser = expat.ParserCreate()
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        # The node of each open element, or None; the bottom entry stands above the root.
        self.open: list[_Node | None] = [None]
        self.top_level_seen = 0
        self.text: list[str] = []
        self.text_depth = -1
        self.definer: _Node | None = None
        self.definer_depth = -1
        self.character: str | None = None

    def read(self, source: Traversable) -> CodeSet:
        with source.open("rb") as stream:
            self.parser.ParseFile(stream)
        return CodeSet(self.entries, frozenset(self.headings))

    def collect_text(self, depth: int) -> None:
        self.text = []
        self.text_depth = depth
        self.parser.CharacterDataHandler = self.text.append

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        self.parser.CharacterDataHandler = None
        depth = len(self.open)
        parent = self.open[-1]
        node = None
        if parent is not None:
            if tag == "diag" or tag == "section":
                parent.has_children = True
                node = _Node(tag, attributes.get("id", ""), parent.passed_on())
            elif tag == "name" or tag == "desc":
                self.collect_text(depth)
            elif tag == "sevenChrDef":
                self.definer = parent
                self.definer_depth = depth
                self.character = None
        elif depth == 2:
            # The package drops the root's first two children (version, introduction).
            self.top_level_seen += 1
            if self.top_level_seen > 2:
                node = _Node(tag, attributes.get("id", ""), None)
        elif self.definer is not None and depth == self.definer_depth + 1:
            if tag == "extension":
                self.character = attributes["char"]
                self.collect_text(depth)
            elif tag == "note":
                self.collect_text(depth)
        self.open.append(node)

    def end(self, tag: str) -> None:
        self.parser.CharacterDataHandler = None
        node = self.open.pop()
        if node is not None:
            self.close_node(node)
            return
        depth = len(self.open)
        text = None
        if depth == self.text_depth:
            text = "".join(self.text) or None
            self.text_depth = -1
        parent = self.open[-1]
        if parent is not None:
            if tag == "name":
                if text is None:
                    raise ValueError(f"a code with an empty name in {parent.name or parent.tag}")
                parent.name = text
            elif tag == "desc" and text is not None:
                parent.title = text
            elif tag == "sevenChrDef":
                parent.defines = True
                self.definer = None
        elif self.definer is not None and depth == self.definer_depth + 1:
            if tag == "extension":
                assert self.character is not None
                self.definer.characters[self.character] = text or ""
            elif tag == "note" and self.character is not None and text is not None:
                self.definer.characters[self.character] += "/" + text

    def close_node(self, node: _Node) -> None:
        if node.name not in self.entries:
            self.entries[node.name] = node.title
            if node.tag in ("chapter", "section"):
                self.headings.add(node.name)
        if node.has_children:
            return
        characters = node.characters or (node.inherited.characters if node.inherited else {})
        if not characters:
            return
        padded = node.name + "." if len(node.name) == 3 else node.name
        padded = padded.ljust(7, "X")
        shared: _Extended = (node.title, characters)
        for character, meaning in characters.items():
            name = padded + character
            if padded[:3] + padded[4:] + character not in self.confirmed or name in self.entries:
                continue
            self.entries[name] = shared if len(character) == 1 else f"{node.title}, {meaning}"


def _data_files() -> tuple[Traversable, Traversable]:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None:
        raise RuntimeError(f"the {PACKAGE} package, which holds the ICD-10-CM data, is missing")
    # A module object that is never executed: its files, without the tree its import builds.
    data = importlib.resources.files(importlib.util.module_from_spec(spec)) / "data"
    code_lists = [f for f in data.iterdir() if f.name.startswith("code-list-")]
    tabulars = [f for f in data.iterdir() if f.name.startswith("icd10c-tabular-")]
    if len(code_lists) != 1 or len(tabulars) != 1:
        raise RuntimeError(f"expected one code list and one tabular list in {PACKAGE}'s data")
    return code_lists[0], tabulars[0]


def read() -> CodeSet:
    """Build the index from the installed package's data files (under a second)."""
    code_list, tabular = _data_files()
    # As the package reads it: the first word of each line, without its dot. Only 7th-character
    # codes are looked up in it, and they are seven characters or more.
    lines = code_list.read_text(encoding="utf-8").split("\n")
    confirmed = {code for line in lines if len(code := line.split(" ")[0].replace(".", "")) >= 7}
    # Tens of thousands of small containers are made and dropped; collecting garbage while they
    # are would scan the whole process's objects again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _TabularReader(confirmed).read(tabular)
    finally:
        if collecting:
            gc.enable()


_lock = threading.Lock()
_code_set: CodeSet | None = None


def code_set() -> CodeSet:
    """The index, built by the first caller in the process and shared from then on."""
    global _code_set
    if _code_set is None:
        with _lock:
            if _code_set is None:
                _code_set = read()
    return _code_set
