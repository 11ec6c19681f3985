"""Units as a tree: import from a spreadsheet, edit, subtrees, and headcounts.

Headcount rule: a typed-in headcount counts the whole unit with its sub-units and is used until a
roster is loaded somewhere in that unit's subtree. Once it is, the unit's headcount is the roster
members attached to the unit itself plus each sub-unit's headcount (a sub-unit without a roster of
its own still contributes its typed-in number).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from quizapp.admin.services import record
from quizapp.auth.models import Role, Unit, User
from quizapp.database import begin_writing
from quizapp.errors import Invalid, NotFound
from quizapp.extensions import db
from quizapp.inputs import whole_number
from quizapp.units.collation import collation_key
from quizapp.units.tables import RowProblem, TableError, read_table

HEADCOUNT_MAX = 10_000_000  # staff of one unit with its sub-units; typed-in beyond it is a slip


def headcount_range_message():
    return _l(
        "Headcount must be a whole number from 0 to %(maximum)s.",
        maximum=format_number(HEADCOUNT_MAX),
    )


UNIT_COLUMNS = {
    "code": "code",
    "unit_code": "code",
    "ma": "code",
    "ma_don_vi": "code",
    "name": "name",
    "unit_name": "name",
    "ten": "name",
    "ten_don_vi": "name",
    "parent_code": "parent_code",
    "parent": "parent_code",
    "ma_don_vi_cap_tren": "parent_code",
    "ma_cap_tren": "parent_code",
    "don_vi_cap_tren": "parent_code",
    "headcount": "headcount",
    "so_nguoi": "headcount",
    "bien_che": "headcount",
    "so_can_bo": "headcount",
}


# --- the tree ------------------------------------------------------------------------------


@dataclass
class UnitNode:
    """A unit with what the tree and the reports need, loaded in one query."""

    id: int
    code: str
    name: str
    parent_id: int | None
    typed_headcount: int | None
    depth: int = 0
    roster_members: int = 0  # on the roster and attached to this unit itself
    headcount: int | None = None  # the whole subtree, by the rule in this module's docstring
    headcount_from_roster: bool = False
    children: list[UnitNode] = field(default_factory=list)


class UnitTree:
    """Every unit, in tree order (siblings by name in Vietnamese alphabetical order)."""

    def __init__(self) -> None:
        rows = db.session.execute(
            select(Unit.id, Unit.code, Unit.name, Unit.parent_id, Unit.headcount)
        ).all()
        self.nodes = {row.id: UnitNode(*row) for row in rows}
        roster = db.session.execute(
            select(User.unit_id, func.count())
            .where(User.on_roster.is_(True), User.unit_id.is_not(None))
            .group_by(User.unit_id)
        ).all()
        for unit_id, count in roster:
            self.nodes[unit_id].roster_members = count
        self.roots: list[UnitNode] = []
        for node in self.nodes.values():
            parent = self.nodes.get(node.parent_id) if node.parent_id else None
            (parent.children if parent else self.roots).append(node)
        self.order: list[UnitNode] = []
        self._walk(self.roots, 0, set())
        self.position = {node.id: index for index, node in enumerate(self.order)}

    def _walk(self, nodes: list[UnitNode], depth: int, seen: set[int]) -> None:
        nodes.sort(key=lambda n: (collation_key(n.name), n.code))
        for node in nodes:
            if node.id in seen:  # a cycle can only come from hand-edited data; do not loop
                continue
            seen.add(node.id)
            node.depth = depth
            self.order.append(node)
            self._walk(node.children, depth + 1, seen)
            has_roster = node.roster_members > 0 or any(
                c.headcount_from_roster for c in node.children
            )
            node.headcount_from_roster = has_roster
            if has_roster:
                node.headcount = node.roster_members + sum(c.headcount or 0 for c in node.children)
            elif node.typed_headcount is not None:
                node.headcount = node.typed_headcount
            elif any(c.headcount is not None for c in node.children):
                node.headcount = sum(c.headcount or 0 for c in node.children)

    def by_code(self, code: str) -> UnitNode | None:
        return next((n for n in self.nodes.values() if n.code == code), None)

    def subtree(self, unit_id: int) -> list[UnitNode]:
        """The unit and everything under it, in tree order."""
        root = self.nodes[unit_id]
        start = self.position[unit_id]
        nodes = [root]
        for node in self.order[start + 1 :]:
            if node.depth <= root.depth:
                break
            nodes.append(node)
        return nodes

    def subtree_ids(self, unit_id: int) -> set[int]:
        return {node.id for node in self.subtree(unit_id)}

    def path(self, unit_id: int) -> list[UnitNode]:
        """From the root down to this unit."""
        path: list[UnitNode] = []
        node = self.nodes.get(unit_id)
        while node is not None and node not in path:
            path.insert(0, node)
            node = self.nodes.get(node.parent_id) if node.parent_id else None
        return path


def subtree_ids(unit_id: int) -> set[int]:
    """The unit and all units below it."""
    return UnitTree().subtree_ids(unit_id)


def unit_headcounts() -> dict[int, int | None]:
    """Headcount of every unit (with its sub-units), by the rule in this module's docstring."""
    return {node.id: node.headcount for node in UnitTree().nodes.values()}


def visible_unit_ids(user: User) -> set[int] | None:
    """Units whose people this user may see: None for all (admin), HR its own subtree."""
    if user.role == Role.ADMIN:
        return None
    if user.role == Role.HR and user.unit_id is not None:
        return subtree_ids(user.unit_id)
    return set()


def get_unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(_l("No such unit."))
    return unit


# --- editing -------------------------------------------------------------------------------


@dataclass
class UnitData:
    code: str
    name: str
    parent_id: int | None
    headcount: int | None


def save_unit(data: UnitData, *, unit: Unit | None = None, actor: User | None = None) -> Unit:
    """Create a unit or change one; the code stays unique and the tree free of cycles."""
    code, name = data.code.strip(), data.name.strip()
    if not code or not name:
        raise Invalid(_l("A unit needs a code and a name."))
    if data.headcount is not None and not 0 <= data.headcount <= HEADCOUNT_MAX:
        raise Invalid(headcount_range_message())
    clash = db.session.scalar(select(Unit).where(Unit.code == code))
    if clash is not None and clash is not unit:
        raise Invalid(
            _l("Unit code %(code)r is already used by %(name)s.", code=code, name=clash.name)
        )
    parent = None
    if data.parent_id is not None:
        parent = get_unit(data.parent_id)
        if unit is not None and unit.id in {n.id for n in UnitTree().path(parent.id)}:
            raise Invalid(
                _l(
                    "%(parent)s lies under %(unit)s; a unit cannot be placed under itself.",
                    parent=parent.name,
                    unit=unit.name,
                )
            )
    action = "unit.update" if unit is not None else "unit.create"
    if unit is None:
        unit = Unit(code=code)
        db.session.add(unit)
    before = {
        "code": unit.code,
        "name": unit.name,
        "parent_id": unit.parent_id,
        "headcount": unit.headcount,
    }
    unit.code, unit.name, unit.parent, unit.headcount = code, name, parent, data.headcount
    db.session.flush()
    after = {
        "code": unit.code,
        "name": unit.name,
        "parent_id": unit.parent_id,
        "headcount": unit.headcount,
    }
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    record(action, user=actor, target=code, changes=changes)
    db.session.commit()
    return unit


# --- import --------------------------------------------------------------------------------


@dataclass
class UnitImportReport:
    filename: str
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe_problems(self) -> list[str]:
        return [problem.describe(self.filename) for problem in self.problems]


def _headcount(text: str | None) -> tuple[int | None, bool]:
    """(value, ok): thousands may be separated by dots, commas or spaces."""
    if text is None:
        return None, True
    digits = text.replace(".", "").replace(",", "").replace(" ", "")
    value = whole_number(digits, maximum=HEADCOUNT_MAX)
    return value, value is not None


def import_units(
    data: bytes, filename: str, *, actor: User | None = None, dry_run: bool = False
) -> UnitImportReport:
    """Create or update units by code (all or nothing); parents may come after their children.

    Columns: code, name, parent_code, headcount (Vietnamese headers such as "Mã đơn vị" work
    too). A blank parent_code puts the unit at the top; a blank headcount clears it. Missing
    parent_code or headcount columns leave those fields as they are.
    """
    report = UnitImportReport(filename=filename, dry_run=dry_run)
    try:
        table = read_table(data, filename, aliases=UNIT_COLUMNS, required=("code", "name"))
    except TableError as error:
        report.problems = error.problems
        return report
    begin_writing(db.session)  # the file is read; no parse holds SQLite's write lock
    report.ignored_columns = table.ignored_columns
    problem = report.problems.append

    existing = {unit.code: unit for unit in db.session.scalars(select(Unit))}
    rows: dict[str, dict] = {}  # code -> parsed row
    for row in table.rows:
        code, name = row.text("code"), row.text("name")
        if code is None:
            problem(RowProblem(row.number, _l("The unit code is empty.")))
            continue
        if code in rows:
            problem(
                RowProblem(
                    row.number,
                    _l(
                        "Unit code %(code)r is listed twice (first in row %(first)s).",
                        code=code,
                        first=rows[code]["row"],
                    ),
                )
            )
            continue
        if name is None:
            problem(RowProblem(row.number, _l("Unit %(code)r has no name.", code=code)))
        headcount, ok = _headcount(row.text("headcount"))
        if not ok:
            problem(
                RowProblem(
                    row.number,
                    _l(
                        "Headcount %(value)r is not a whole number from 0 to %(maximum)s.",
                        value=row.text("headcount"),
                        maximum=format_number(HEADCOUNT_MAX),
                    ),
                )
            )
        rows[code] = {
            "row": row.number,
            "name": name,
            "parent_code": row.text("parent_code"),
            "headcount": headcount,
        }

    # The tree after the import: the database's parents, overridden by the file's.
    code_of = {unit.id: code for code, unit in existing.items()}
    parent_of = {code: code_of.get(unit.parent_id) for code, unit in existing.items()}
    for code, parsed in rows.items():
        if "parent_code" in table.columns:
            parent_of[code] = parsed["parent_code"]
        else:
            parent_of.setdefault(code, None)
    for code, parsed in rows.items():
        parent_code = parent_of[code]
        if parent_code is not None and parent_code not in parent_of:
            problem(
                RowProblem(
                    parsed["row"],
                    _l(
                        "Unit %(code)r: parent code %(parent)r is neither in the file nor an "
                        "existing unit.",
                        code=code,
                        parent=parent_code,
                    ),
                )
            )
    for code, parsed in rows.items():
        cycle = _cycle_from(code, parent_of)
        if cycle:
            problem(
                RowProblem(
                    parsed["row"],
                    _l(
                        "Unit %(code)r would be its own ancestor: %(cycle)s.",
                        code=code,
                        cycle=" → ".join(cycle),
                    ),
                )
            )
    report.total = len(rows)
    if report.problems:
        report.problems.sort(key=lambda p: p.row or 0)
        return report

    units = dict(existing)
    for code, parsed in rows.items():
        unit = units.get(code)
        if unit is None:
            unit = Unit(code=code, name=parsed["name"])
            db.session.add(unit)
            units[code] = unit
            report.created += 1
        else:
            changed = unit.name != parsed["name"]
            if "headcount" in table.columns:
                changed |= unit.headcount != parsed["headcount"]
            if "parent_code" in table.columns:
                changed |= code_of.get(unit.parent_id) != parsed["parent_code"]
            if changed:
                report.updated += 1
            else:
                report.unchanged += 1
        unit.name = parsed["name"]
        if "headcount" in table.columns:
            unit.headcount = parsed["headcount"]
    for code, parsed in rows.items():
        if "parent_code" in table.columns:
            parent_code = parsed["parent_code"]
            units[code].parent = units[parent_code] if parent_code else None

    if dry_run:
        db.session.rollback()
        return report
    record(
        "units.import",
        user=actor,
        target=filename,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
    )
    db.session.commit()
    return report


def _cycle_from(code: str, parent_of: dict[str, str | None]) -> list[str]:
    """The cycle through `code` if following parents from it comes back to it, else []."""
    path = [code]
    current = parent_of.get(code)
    while current is not None and current in parent_of:
        if current == code:
            return [*path, code]
        if current in path:
            return []  # a cycle further up; reported on its own rows
        path.append(current)
        current = parent_of.get(current)
    return []
