"""The finite model of a table's inputs that reachability and gaps are decided on.

Each column's domain is split into atoms, the sets of values that every row (and every
constraint the flows add) treats alike: the words of a vocabulary, one word for the free
text no row names (dsl.checked.OTHER), missing, and the segments between a duration or number column's bounds. The
product of the atoms is searched with one bit per combination, so a row is a bit mask and
"shadowed" or "uncovered" is a few AND and OR operations.
"""
from __future__ import annotations

import attrs

from dsl.acceptance import acceptance_masks, positions


@attrs.frozen
class Model:
    """A table's inputs as the product of each column's atoms; input i is bit i."""

    columns: tuple[str, ...]
    atoms: tuple  # per column, a tuple of atoms; an atom is a tuple of values treated alike
    strides: tuple[int, ...]
    masks: tuple  # per column, per atom: the inputs whose value in that column is in the atom
    full: int

    @classmethod
    def build(cls, columns, atoms) -> "Model":
        sizes = [len(a) for a in atoms]
        strides = [1] * len(sizes)
        for i in range(len(sizes) - 2, -1, -1):
            strides[i] = strides[i + 1] * sizes[i + 1]
        total = strides[0] * sizes[0] if sizes else 1
        masks = []
        for size, stride in zip(sizes, strides):
            repeats = total // (stride * size)
            masks.append(tuple(int((("0" * (a * stride) + "1" * stride + "0" * ((size - a - 1) * stride)) * repeats)[::-1], 2)
                               for a in range(size)))
        return cls(tuple(columns), tuple(atoms), tuple(strides), tuple(masks), (1 << total) - 1)

    def where(self, column: int, accepts) -> int:
        """The inputs whose value in `column` satisfies `accepts` (a function of one value)."""
        mask = 0
        for atom, atom_mask in zip(self.atoms[column], self.masks[column]):
            if accepts(atom[0]):
                mask |= atom_mask
        return mask

    def regions(self, signatures: list, rows: int) -> list[int]:
        """The inputs each of the first `rows` predicates accepts, from the masks of the
        predicates each atom satisfies (`signatures`, per column and atom). A predicate takes
        the atoms it accepts, or all but those it rejects, whichever are fewer; one that
        accepts every atom of a column leaves the column out."""
        regions = [self.full] * rows
        everyone = (1 << rows) - 1
        for column, column_signatures in enumerate(signatures):
            whole = _whole(column_signatures, everyone)
            taken: list = [[] for _ in range(rows)]
            for atom, signature in enumerate(column_signatures):
                for row in positions(signature & everyone & ~whole):
                    taken[row].append(atom)
            masks = self.masks[column]
            for row, atoms in enumerate(taken):
                if (whole >> row) & 1:
                    continue
                if 2 * len(atoms) <= len(masks):
                    regions[row] &= union(masks[atom] for atom in atoms)
                else:  # the atoms of a column part the inputs: all but the rejected ones
                    regions[row] &= ~union(masks[atom] for atom in set(range(len(masks))).difference(atoms))
        return regions

    def point(self, index: int) -> tuple[int, ...]:
        return tuple((index // stride) % len(atoms) for stride, atoms in zip(self.strides, self.atoms))

    def cube(self, chosen) -> int:
        """The inputs whose atom in each column is among `chosen[column]`."""
        mask = self.full
        for column, indexes in enumerate(chosen):
            mask &= union(self.masks[column][i] for i in indexes)
        return mask


def union(masks) -> int:
    result = 0
    for mask in masks:
        result |= mask
    return result


def lowest(mask: int) -> int:
    return (mask & -mask).bit_length() - 1


def _whole(signatures, rows: int) -> int:
    """Of the predicates in `rows`, those that accept every atom (as a `*` cell does)."""
    for signature in signatures:
        rows &= signature
    return rows


def taken(signatures, rows: int) -> int:
    """How many atoms the predicates in `rows` accept, leaving out those that accept them all."""
    partial = rows & ~_whole(signatures, rows)
    return sum((signature & partial).bit_count() for signature in signatures)


def atoms_of(candidates, predicates) -> tuple[tuple, tuple]:
    """Candidates grouped by how every predicate treats them (a missing value stays alone),
    and for each group the mask of the predicates that accept it."""
    groups: dict = {}
    signatures: dict = {}
    for value, accepting in zip(candidates, acceptance_masks(predicates, candidates)):
        key = ("missing",) if value is None else accepting
        groups.setdefault(key, []).append(value)
        signatures.setdefault(key, accepting)
    return tuple(tuple(group) for group in groups.values()), tuple(signatures.values())


def probes(predicates, step: int) -> list[int]:
    """Values on and beside every bound of a duration (step 60) or number (step 1) column, from 0."""
    bounds = {b for p in predicates for b in (*p.thresholds(), *(v for v in p.values if isinstance(v, int)))}
    points = {0}
    for bound in bounds:
        points.update(v for v in (bound - step, bound - 1, bound, bound + 1, bound + step) if v >= 0)
    return sorted(points)
