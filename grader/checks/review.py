"""Static flags for human review: code that touches autograd or the grader in ways worth a look.

Never scored: a flag is a question for the instructor (``x.grad = ...`` can be a legitimate reset, a
``.data`` a habit from old tutorials), shown in results beside the score. What the code actually did at
run time is judged separately (the harness reports tampering as it happens).
"""

from __future__ import annotations

import ast

from grader.i18n import N_, Message
from grader.results import ReviewFlag
from grader.syntax import syntax_tree

# Module or attribute names whose mere use is worth a look, with what they allow.
_NAMES = {
    "gc": ("uses_gc", N_("uses the garbage collector module (can reach any live object, the grader's too)")),
    "ctypes": ("uses_ctypes", N_("uses ctypes (raw memory access)")),
    "_getframe": ("inspects_frames", N_("inspects interpreter frames (sys._getframe)")),
    "__globals__": ("reads_globals", N_("reads a function's globals (__globals__)")),
    "__closure__": ("reads_closure", N_("reads a function's closure (__closure__)")),
    "__torch_function__": ("torch_function", N_("defines or calls __torch_function__ (can change how torch ops behave)")),
    "DisableTorchFunction": ("disables_torch_function", N_("disables torch-function dispatch")),
    "DisableTorchFunctionSubclass": ("disables_torch_function", N_("disables torch-function dispatch")),
    "_pop_mode": ("pops_modes", N_("pops torch-function modes")),
    "_VariableFunctions": ("torch_internals", N_("calls torch's internal function table (torch._C)")),
    "settrace": ("sets_tracer", N_("installs a tracer (sys.settrace)")),
    "setprofile": ("sets_tracer", N_("installs a profiler hook (sys.setprofile)")),
    "_current_frames": ("inspects_frames", N_("inspects interpreter frames (sys._current_frames)")),
    "currentframe": ("inspects_frames", N_("inspects interpreter frames (currentframe)")),
}
# Attributes that lead from an object to the code, globals or frames behind it (the first step of every
# escape from a Python sandbox): no autograd exercise needs them.
_INTERNALS = frozenset({
    "__code__", "__defaults__", "__kwdefaults__", "__dict__", "__subclasses__", "__base__", "__bases__",
    "__mro__", "__getattribute__", "__builtins__", "__self__", "__func__", "__wrapped__", "__reduce__",
    "__reduce_ex__", "__loader__", "__spec__", "f_globals", "f_locals", "f_back", "f_builtins", "cell_contents",
    "gi_frame", "gi_code", "cr_frame", "ag_frame", "tb_frame", "tb_next",
})
# Modules that reach objects by name or rebuild code at run time.
_REFLECTION_MODULES = frozenset({"inspect", "importlib", "pickle", "marshal", "copyreg", "dill", "cloudpickle",
                                 "code", "codeop", "runpy", "builtins"})
_ATTRIBUTE_FUNCTIONS = frozenset({"getattr", "setattr", "delattr", "hasattr"})


def review(source: str) -> list[ReviewFlag]:
    """Every flag in ``source``, in line order (none for code that does not parse)."""
    tree = syntax_tree(source)
    if tree is None:
        return []
    flags: list[ReviewFlag] = []

    def flag(code: str, message: str, node: ast.AST) -> None:  # English, or a Message: worded per language later
        flags.append(ReviewFlag(code, message if isinstance(message, Message) else Message(message),
                                getattr(node, "lineno", 0)))

    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "grad":
                    flag("assigns_grad", N_("assigns .grad by hand (a gradient should come from backward)"), target)
                elif isinstance(target, ast.Attribute) and _rooted_at_torch(target.value):
                    flag("patches_torch", Message(N_("assigns an attribute of torch ({name})"), {"name": ast.unparse(target)}), target)
        elif isinstance(node, ast.Attribute):
            if node.attr == "data":
                flag("uses_data", N_(".data bypasses autograd's tracking (use .detach() or torch.no_grad())"), node)
            elif node.attr == "_C" and _rooted_at_torch(node.value):
                flag("torch_internals", N_("reaches into torch._C (torch's internals)"), node)
            elif node.attr == "ops" and _rooted_at_torch(node.value):
                flag("torch_internals", N_("calls operators through torch.ops (below torch's Python API)"), node)
            elif node.attr == "modules" and isinstance(node.value, ast.Name) and node.value.id == "sys":
                flag("sys_modules", N_("reads sys.modules (can reach any imported module)"), node)
            elif node.attr in _NAMES:
                flag(*_NAMES[node.attr], node)
            elif node.attr in ("attrgetter", "methodcaller"):
                flag("dynamic_attribute", Message(N_("reaches attributes by name ({name})"), {"name": node.attr}), node)
            elif node.attr in _INTERNALS:
                flag("reaches_internals", Message(N_("reaches behind an object ({name})"), {"name": node.attr}),
                     node)
            elif node.attr.startswith("_") and not node.attr.startswith("__") and _is_torch(node.value):
                flag("torch_private", Message(N_("uses torch's private module torch.{name}"), {"name": node.attr}),
                     node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                root = module.split(".")[0]
                if root in ("gc", "ctypes"):
                    flag(*_NAMES[root], node)
                elif root in _REFLECTION_MODULES:
                    flag("reflection", Message(N_("imports {module} (reaches objects or code by name)"),
                                               {"module": module}), node)
                elif root == "torch" and any(part.startswith("_") for part in module.split(".")[1:]):
                    flag("torch_private", Message(N_("uses torch's private module {module}"), {"module": module}),
                         node)
                elif root == "grader":
                    flag("imports_grader", Message(N_("imports the grader's own module {module}"), {"module": module}), node)
                elif root in ("subprocess", "socket", "multiprocessing", "signal"):
                    flag("system_access", Message(N_("imports {module} (processes, network or signals)"), {"module": root}), node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "setattr" and node.args and _rooted_at_torch(node.args[0]):
                flag("patches_torch", N_("sets an attribute of torch with setattr"), node)
            elif node.func.id in ("__import__", "eval", "exec", "compile"):
                flag("dynamic_code", Message(N_("runs code built at run time ({name})"), {"name": node.func.id}), node)
            elif node.func.id in _ATTRIBUTE_FUNCTIONS and not _constant_name(node):
                flag("dynamic_attribute", Message(N_("reaches an attribute by a name built at run time ({name})"),
                                                  {"name": node.func.id}), node)
            elif node.func.id == "vars" and node.args:
                flag("dynamic_attribute", N_("reads an object's attributes as a dictionary (vars)"), node)
            elif node.func.id in ("globals", "locals"):
                flag("dynamic_attribute", Message(N_("reads names as a dictionary ({name})"), {"name": node.func.id}),
                     node)
        elif isinstance(node, ast.Name) and node.id == "__builtins__":
            flag("reaches_internals", Message(N_("reaches behind an object ({name})"), {"name": node.id}), node)
        elif isinstance(node, ast.Name) and node.id in _ATTRIBUTE_FUNCTIONS | {"vars"} and id(node) not in called:
            flag("dynamic_attribute", Message(N_("passes {name} around (reaches attributes by name)"),
                                              {"name": node.id}), node)
        elif isinstance(node, ast.FunctionDef) and node.name == "__torch_function__":
            flag(*_NAMES["__torch_function__"], node)
    unique = {(f.code, f.line): f for f in flags}
    return sorted(unique.values(), key=lambda f: (f.line, f.code))


def _rooted_at_torch(node: ast.AST) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id == "torch"


def _is_torch(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "torch"


def _constant_name(call: ast.Call) -> bool:
    """``getattr(x, "name")``: the attribute is named in the code, so the other flags see it."""
    name = call.args[1].value if len(call.args) >= 2 and isinstance(call.args[1], ast.Constant) else None
    return isinstance(name, str) and name not in _INTERNALS and name not in _NAMES


def flags_reaching(source: str, functions: list[str] | tuple[str, ...], flags: list[ReviewFlag]) -> list[ReviewFlag]:
    """The flags that can act on the named functions' calls: in their bodies, in the top-level helpers
    they call (transitively), or in top-level code (it runs at load, before every call). A flagged
    import counts where the module is used. Flags in another exercise's functions stay with that one."""
    tree = syntax_tree(source)
    if tree is None or not flags:
        return []
    defs = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    reached, todo = set(), [name for name in functions if name in defs]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo += [n.id for n in ast.walk(defs[name]) if isinstance(n, ast.Name) and n.id in defs]
    spans = {name: (node.lineno, node.end_lineno or node.lineno) for name, node in defs.items()}

    def counts(line: int) -> bool:
        owner = next((name for name, (start, end) in spans.items() if start <= line <= end), None)
        return owner is None or owner in reached

    uses = _import_uses(tree)
    return [f for f in flags if any(counts(line) for line in uses.get(f.line, [f.line]))]


def _import_uses(tree: ast.Module) -> dict[int, list[int]]:
    """For each line that imports a name, the lines that use the name (an unused import acts nowhere)."""
    bound: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound[(alias.asname or alias.name).split(".")[0]] = node.lineno
    uses: dict[int, list[int]] = {line: [] for line in bound.values()}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in bound:
            uses[bound[node.id]].append(node.lineno)
    return uses
