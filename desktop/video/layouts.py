"""Grid layouts: which cells of a C×R grid each tile covers.

The standard layouts are 1, 2×2, 3×3, 4×4, 5×5 and the 1+N layouts (one big tile, N small ones
around it: 1+5 on a 3×3 grid, 1+7 on a 4×4 grid); ``view --grid CxR`` makes any uniform one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["LAYOUTS", "LAYOUT_KEYS", "MAX_TILES", "Cell", "Layout", "layout_named", "parse_grid"]

MAX_TILES = 64  # Nx Witness's limit per layout; more is unreadable on any screen


@dataclass(frozen=True, slots=True)
class Cell:
    column: int
    row: int
    columns: int = 1  # span
    rows: int = 1


@dataclass(frozen=True, slots=True)
class Layout:
    name: str  # "2x2", "1+5", … (stable: saved in named layouts and settings)
    columns: int
    rows: int
    cells: tuple[Cell, ...]

    @property
    def tiles(self) -> int:
        return len(self.cells)

    @classmethod
    def uniform(cls, columns: int, rows: int) -> Layout:
        if columns < 1 or rows < 1 or columns * rows > MAX_TILES:
            raise ValueError(f"a grid of {columns}x{rows} tiles: each side at least 1, at most {MAX_TILES} tiles")
        name = "1" if columns == rows == 1 else f"{columns}x{rows}"
        return cls(name, columns, rows, tuple(Cell(c, r) for r in range(rows) for c in range(columns)))

    @classmethod
    def one_plus(cls, side: int) -> Layout:
        """One big tile of (side-1)² cells top left, the rest of a side×side grid in small tiles."""
        big = side - 1
        small = [Cell(side - 1, r) for r in range(big)] + [Cell(c, side - 1) for c in range(side)]
        return cls(f"1+{len(small)}", side, side, (Cell(0, 0, big, big), *small))


LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (
        Layout.uniform(1, 1),
        Layout.uniform(2, 2),
        Layout.uniform(3, 3),
        Layout.uniform(4, 4),
        Layout.uniform(5, 5),
        Layout.one_plus(3),  # 1+5
        Layout.one_plus(4),  # 1+7
    )
}
# Digit keys 1…7 pick these, in this order.
LAYOUT_KEYS: tuple[str, ...] = ("1", "2x2", "3x3", "4x4", "5x5", "1+5", "1+7")

_GRID = re.compile(r"^\s*(\d{1,2})\s*[x×*]\s*(\d{1,2})\s*$", re.I)


def parse_grid(text: str) -> Layout:
    """``"4x4"`` (columns × rows) → a uniform layout; a clear ValueError for anything else."""
    m = _GRID.match(text)
    if m is None:
        raise ValueError(f"not a grid size: {text!r} (columns x rows, e.g. 4x4)")
    return Layout.uniform(int(m.group(1)), int(m.group(2)))


def layout_named(name: str) -> Layout:
    """A standard layout by name, or a uniform one written ``CxR``."""
    found = LAYOUTS.get(name)
    return found if found is not None else parse_grid(name)
