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
}


def review(source: str) -> list[ReviewFlag]:
    """Every flag in ``source``, in line order (none for code that does not parse)."""
    tree = syntax_tree(source)
    if tree is None:
        return []
    flags: list[ReviewFlag] = []

    def flag(code: str, message: str, node: ast.AST) -> None:  # English, or a Message: worded per language later
        flags.append(ReviewFlag(code, message if isinstance(message, Message) else Message(message),
                                getattr(node, "lineno", 0)))

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
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                root = module.split(".")[0]
                if root in ("gc", "ctypes"):
                    flag(*_NAMES[root], node)
                elif root == "grader":
                    flag("imports_grader", Message(N_("imports the grader's own module {module}"), {"module": module}), node)
                elif root in ("subprocess", "socket", "multiprocessing", "signal"):
                    flag("system_access", Message(N_("imports {module} (processes, network or signals)"), {"module": root}), node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "setattr" and node.args and _rooted_at_torch(node.args[0]):
                flag("patches_torch", N_("sets an attribute of torch with setattr"), node)
            elif node.func.id in ("__import__", "eval", "exec", "compile"):
                flag("dynamic_code", Message(N_("runs code built at run time ({name})"), {"name": node.func.id}), node)
        elif isinstance(node, ast.FunctionDef) and node.name == "__torch_function__":
            flag(*_NAMES["__torch_function__"], node)
    unique = {(f.code, f.line): f for f in flags}
    return sorted(unique.values(), key=lambda f: (f.line, f.code))


def _rooted_at_torch(node: ast.AST) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id == "torch"


def within_functions(source: str, names: list[str] | tuple[str, ...], flags: list[ReviewFlag]) -> list[ReviewFlag]:
    """The flags that lie inside the bodies of the named top-level functions (an exercise's own code)."""
    tree = syntax_tree(source)
    if tree is None:
        return []
    spans = [(node.lineno, node.end_lineno or node.lineno) for node in tree.body
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names]
    return [f for f in flags if any(start <= f.line <= end for start, end in spans)]
