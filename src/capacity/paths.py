"""Field paths: the one way capacity names a value inside a scenario.

The same syntax names the field of an error (``sites[2].pue: must be at least 1``), the
value a sweep varies (``sites[tianyi-huawei].pue``) and the figure an assumption governs:

- a **dot** leads to a field or to a key of a table: ``market.load_factor``,
  ``profiles.smart-ai.it_power``, ``market.prices.compute_fp16``;
- **brackets** pick an element of a list, by position or by its key (a site's id, or
  the name of a project, demand block or policy): ``sites[0]``, ``sites[tianyi-huawei]``,
  ``plan.projects[smart-computing-centre].completion``; a key may be quoted there too
  (``sites["dc.1"]``, ``sites["7"]`` for a site whose id is ``7``);
- a name that holds a dot or a bracket is quoted: ``green_share."site.a"``.

Examples
--------
>>> parse('plan.projects[smart-computing-centre].slippage.mean')
('plan', 'projects', Item('smart-computing-centre'), 'slippage', 'mean')
>>> parse("sites[2].pue")
('sites', Item(2), 'pue')
>>> join("profiles", "a.b", "it_power")
'profiles."a.b".it_power'
"""

from __future__ import annotations

import re

import attrs

from capacity.errors import FieldError

__all__ = ["Item", "join", "parse", "under"]


@attrs.frozen
class Item:
    """An element of a list: its position, or its key (id or name)."""

    key: int | str

    def __repr__(self) -> str:
        return f"Item({self.key!r})"


_STEP = re.compile(r'\.?(?:"(?P<quoted>[^"]*)"|(?P<name>[^.\[\]"]+))|\[(?P<item>[^\[\]]+)\]')


def parse(path: str) -> tuple[str | Item, ...]:
    """Split a field path into names and :class:`Item` selections.

    Raises
    ------
    FieldError
        If `path` is not a field path.
    """
    if not isinstance(path, str):
        raise FieldError(str(path), f"is not a field path (a string such as "
                         f"'sites[0].pue'), but {type(path).__name__}")
    parts: list[str | Item] = []
    at = 0
    while at < len(path):
        found = _STEP.match(path, at)
        if found is None or (at == 0 and path.startswith(".")) or (
                found[0].startswith(".") is False and at > 0 and found["item"] is None):
            raise FieldError(path, f"is not a field path (at character {at + 1}); write "
                             "e.g. 'sites[tianyi-huawei].pue' or 'market.load_factor'")
        if found["item"] is not None:
            key = found["item"].strip()
            if not key:
                raise FieldError(path, "picks no element: write a position or a key inside "
                                 "the brackets")
            quoted = re.fullmatch(r'"([^"]*)"|\'([^\']*)\'', key)
            if quoted:  # a key written in quotes is a key, even "2" or "dc.1"
                parts.append(Item(quoted[1] if quoted[1] is not None else quoted[2]))
            else:
                parts.append(Item(int(key) if re.fullmatch(r"\d+", key) else key))
        else:
            parts.append(found["quoted"] if found["quoted"] is not None else found["name"])
        at = found.end()
    if not parts or isinstance(parts[0], Item):
        raise FieldError(path, "is not a field path; it starts with a field name, e.g. "
                         "'sites[0].pue'")
    return tuple(parts)


def under(prefix: str, path: str) -> str:
    """A written `path` (``"pue"``, ``"[2].pue"``) placed under a written `prefix`.

    Examples
    --------
    >>> under("sites", "[2].pue"), under("sites[2]", "pue"), under("", "pue")
    ('sites[2].pue', 'sites[2].pue', 'pue')
    """
    if not path:
        return prefix
    if not prefix:
        return path
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def join(*parts: str | int | Item) -> str:
    """Format names, positions and keys as one path (the inverse of :func:`parse`).

    A key that reads as a position or holds a dot is quoted in its brackets.

    Examples
    --------
    >>> join("sites", Item("tianyi-huawei"), "pue"), join("sites", Item("dc.1")), join("sites", 2)
    ('sites[tianyi-huawei].pue', 'sites["dc.1"]', 'sites[2]')
    """
    out = ""
    for part in parts:
        if isinstance(part, Item):
            key = part.key
            quoted = isinstance(key, str) and (key.isdigit() or "." in key)
            out += f'["{key}"]' if quoted else f"[{key}]"
        elif isinstance(part, int):
            out += f"[{part}]"
        elif not part:
            continue
        elif re.search(r'[.\[\]"]', part):
            out += f'{"." if out else ""}"{part}"'
        else:
            out += f"{'.' if out else ''}{part}"
    return out
