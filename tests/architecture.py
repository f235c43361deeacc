"""Reads the source tree (with `ast`, nothing is imported) and lists what breaks the two layout rules of
/work/shared/STYLE.md:

- A collection has one owner: only the owning feature package (the table `COLLECTION_OWNERS` in
  service/core/db.py) names it in `collection(...)`, `db[...]`, `get_collection(...)`, a GridFS bucket,
  `declare_indexes`/`retire_indexes`, or a pipeline stage (`$lookup`, `$unionWith`, `$out`, `$merge`).
  A collection name the reader cannot work out (a variable) is reported too, so the rule cannot be
  stepped around by computing the name.
- The core (service/core/) imports no feature package, not even inside a function.

It also lists import circles between modules (imports inside functions count: they are how circles
hide). The test module is tests/test_architecture.py.
"""

import ast
import dataclasses
import pathlib

from pymongo.database import Database

CORE = "service.core"
# The core's own plumbing hands out collections by a name it is given; it is the door, not a user.
COLLECTION_DOOR = "service.core.db"
COLLECTION_CALLS = {"collection", "get_collection"}
INDEX_CALLS = {"declare_indexes", "retire_indexes"}
DATABASE_CALLS = {"get_db"}
# Pipeline stages naming another collection, and the key naming it when the stage's value is a document.
# `db.registrations` is a collection too (pymongo's attribute access); the Database's own names are not.
DATABASE_ATTRIBUTES = {name for name in dir(Database) if not name.startswith("__")}
STAGE_KEYS = {"$lookup": "from", "$graphLookup": "from", "$unionWith": "coll", "$out": "coll", "$merge": "into"}


@dataclasses.dataclass(frozen=True, order=True)
class Violation:
    module: str
    line: int
    rule: str  # "foreign-collection", "unknown-collection", "unresolved-collection", "core-imports-feature"
    subject: str  # the collection, or the imported module
    detail: str = ""

    def __str__(self):
        return f"{self.module}:{self.line}: {self.rule} {self.subject} {self.detail}".rstrip()


@dataclasses.dataclass
class Module:
    name: str
    path: pathlib.Path
    tree: ast.Module
    constants: dict = dataclasses.field(default_factory=dict)  # NAME -> str
    aliases: dict = dataclasses.field(default_factory=dict)  # local name -> ("module", m) | ("symbol", m, attr)
    imports: list = dataclasses.field(default_factory=list)  # (line, imported module)


def package_of(module_name):
    """service.leave.review -> service.leave; service.demo -> service.demo."""
    parts = module_name.split(".")
    return ".".join(parts[:2])


def owned_by(module_name, owner):
    return module_name == owner or module_name.startswith(owner + ".")


class Tree:
    def __init__(self, root, package="service"):
        self.root = pathlib.Path(root)
        self.modules = {}
        for path in sorted((self.root / package).rglob("*.py")):
            relative = path.relative_to(self.root).with_suffix("")
            parts = list(relative.parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join(parts)
            self.modules[name] = Module(name, path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
        for module in self.modules.values():
            self._read_imports(module)
        for module in self.modules.values():
            self._read_constants(module)

    # ---- imports and names -------------------------------------------------------------------------

    def _absolute(self, module, node):
        if not node.level:
            return node.module
        base = module.name.split(".")
        if module.path.name != "__init__.py":
            base = base[:-1]
        base = base[:len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))

    def _read_imports(self, module):
        top_level = set(module.tree.body)
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    module.imports.append((node.lineno, alias.name))
                    if node in top_level:
                        if alias.asname:
                            module.aliases[alias.asname] = ("module", alias.name)
                        else:
                            module.aliases[alias.name.split(".")[0]] = ("module", alias.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom):
                source = self._absolute(module, node)
                for alias in node.names:
                    local = alias.asname or alias.name
                    target = f"{source}.{alias.name}"
                    if target in self.modules:
                        module.imports.append((node.lineno, target))
                        entry = ("module", target)
                    else:
                        module.imports.append((node.lineno, source))
                        entry = ("symbol", source, alias.name)
                    # Imports inside functions count for the import rules; for resolving names they
                    # are read too (a function-level `from x import CONST` is still that constant).
                    module.aliases.setdefault(local, entry)

    def _read_constants(self, module):
        for node in module.tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                value = node.value
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    module.constants[node.targets[0].id] = value.value
        # A second pass for constants built from constants (f"{BUCKET}.files").
        for node in module.tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                if node.targets[0].id not in module.constants:
                    value = self.resolve(module, node.value)
                    if value is not None:
                        module.constants[node.targets[0].id] = value

    def _constant_of(self, module_name, name, depth=0):
        module = self.modules.get(module_name)
        if module is None or depth > 5:
            return None
        if name in module.constants:
            return module.constants[name]
        entry = module.aliases.get(name)
        if entry and entry[0] == "symbol":
            return self._constant_of(entry[1], entry[2], depth + 1)
        return None

    def _module_of(self, module, node):
        """The module an expression names (`repository`, `classes.repository`), or None."""
        if isinstance(node, ast.Name):
            entry = module.aliases.get(node.id)
            return entry[1] if entry and entry[0] == "module" else None
        if isinstance(node, ast.Attribute):
            base = self._module_of(module, node.value)
            if base and f"{base}.{node.attr}" in self.modules:
                return f"{base}.{node.attr}"
            entry = self.modules[base].aliases.get(node.attr) if base in self.modules else None
            if entry and entry[0] == "module":  # service.classes.service imports repository: classes.repository
                return entry[1]
        return None

    def resolve(self, module, node):
        """The string an expression stands for, or None when it cannot be told from the source."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return self._constant_of(module.name, node.id)
        if isinstance(node, ast.Attribute):
            owner = self._module_of(module, node.value)
            return self._constant_of(owner, node.attr) if owner else None
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    value = value.value
                part = self.resolve(module, value)
                if part is None:
                    return None
                parts.append(part)
            return "".join(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.resolve(module, node.left), self.resolve(module, node.right)
            return left + right if left is not None and right is not None else None
        return None

    # ---- collection uses ---------------------------------------------------------------------------

    def collection_uses(self, module):
        """[(line, collection name or None, how)] for every place `module` names a collection."""
        uses = []
        parents = {}
        for parent in ast.walk(module.tree):
            for child in ast.iter_child_nodes(parent):
                parents[child] = parent
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call):
                name = _called_name(node.func)
                if name in COLLECTION_CALLS | INDEX_CALLS and node.args:
                    uses.append((node.lineno, self.resolve(module, node.args[0]), f"{name}()"))
                elif name == "GridFSBucket":
                    bucket = next((k.value for k in node.keywords if k.arg == "bucket_name"), None)
                    bucket = self.resolve(module, bucket) if bucket is not None else "fs"
                    for suffix in (".files", ".chunks"):
                        uses.append((node.lineno, bucket and bucket + suffix, "GridFSBucket"))
                elif name in DATABASE_CALLS:
                    parent = parents.get(node)
                    if isinstance(parent, ast.Call) and _called_name(parent.func) == "GridFSBucket":
                        continue  # the bucket is the use, reported above
                    if isinstance(parent, ast.Attribute) and parent.attr in {"command", "get_collection"}:
                        continue  # a server command (ping) touches no collection; get_collection is read above
                    if isinstance(parent, ast.Subscript) or (
                            isinstance(parent, ast.Attribute) and parent.attr not in DATABASE_ATTRIBUTES):
                        continue  # read below as db[...] or db.<collection>
                    uses.append((node.lineno, None, "get_db() handed on"))
            elif isinstance(node, ast.Subscript) and _is_database(node.value):
                uses.append((node.lineno, self.resolve(module, node.slice), "db[...]"))
            elif (isinstance(node, ast.Attribute) and _is_database(node.value)
                  and node.attr not in DATABASE_ATTRIBUTES):
                uses.append((node.lineno, node.attr, "db.<attribute>"))
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    stage = key.value if isinstance(key, ast.Constant) else None
                    if stage in STAGE_KEYS:
                        target = value
                        if isinstance(value, ast.Dict):
                            target = next((v for k, v in zip(value.keys, value.values)
                                           if isinstance(k, ast.Constant) and k.value == STAGE_KEYS[stage]), None)
                        uses.append((node.lineno, target is not None and self.resolve(module, target) or None,
                                     stage))
        return uses

    # ---- the rules ---------------------------------------------------------------------------------

    def violations(self, owners):
        found = []
        for module in self.modules.values():
            if module.name != COLLECTION_DOOR:
                for line, name, how in self.collection_uses(module):
                    if name is None:
                        found.append(Violation(module.name, line, "unresolved-collection", how,
                                               "(name the collection with its owner's constant)"))
                    elif name not in owners:
                        found.append(Violation(module.name, line, "unknown-collection", name,
                                               f"via {how} (add it to COLLECTION_OWNERS)"))
                    elif not owned_by(module.name, owners[name]):
                        found.append(Violation(module.name, line, "foreign-collection", name,
                                               f"via {how}, owned by {owners[name]}"))
            if owned_by(module.name, CORE):
                for line, imported in module.imports:
                    if imported.startswith("service.") and not owned_by(imported, CORE):
                        found.append(Violation(module.name, line, "core-imports-feature", imported))
        return sorted(set(found))

    def import_cycles(self):
        """Strongly connected groups of modules of this tree that import each other (any depth)."""
        graph = {name: {target for _, imported in module.imports
                        for target in [self._nearest_module(imported)] if target and target != name}
                 for name, module in self.modules.items()}
        return [sorted(group) for group in _strongly_connected(graph) if len(group) > 1]

    def _nearest_module(self, name):
        while name and name not in self.modules:
            name = name.rpartition(".")[0]
        return name or None


def _called_name(func):
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _is_database(node):
    if isinstance(node, ast.Call) and _called_name(node.func) in DATABASE_CALLS | {"db_for"}:
        return True
    return isinstance(node, ast.Name) and node.id in {"db", "database"}


def _strongly_connected(graph):
    """Tarjan's algorithm, iterative."""
    index, low, on_stack, stack, groups, counter = {}, {}, set(), [], [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    groups.append(group)
    return groups
