"""Text of `grader doctor`: the protection layers of this machine and what each one blocked."""

from __future__ import annotations

from grader.sandbox.doctor import ALWAYS, Diagnosis


def render_doctor(diagnosis: Diagnosis, per_layer: dict[str, Diagnosis] | None = None) -> str:
    lines = [f"Sandbox for student code on {diagnosis.system}", ""]
    for name, layer in diagnosis.layers.items():
        mark = "ok  " if layer.get("available") else "MISSING"
        lines.append(f"  {mark:8s}{name:11s} {layer.get('detail', '')}")
    lines.append(f"  {'ok':8s}{'always':11s} {ALWAYS}")
    lines += ["", "A child hardened like a student's tried:"]
    for attempt in diagnosis.attempts:
        verdict = "blocked" if attempt.blocked else "ALLOWED"
        lines.append(f"  {verdict:8s}{attempt.name}: {attempt.detail}")
    if per_layer:
        labels = list(per_layer)
        width = max(len(a.name) for a in diagnosis.attempts)
        lines += ["", "What each layer blocks on its own (x: blocked):",
                  "  " + " " * width + "  " + "  ".join(f"{label:>10s}" for label in labels)]
        for index, attempt in enumerate(diagnosis.attempts):
            cells = ["x" if per_layer[label].attempts[index].blocked else "-" for label in labels]
            lines.append(f"  {attempt.name:{width}s}  " + "  ".join(f"{cell:>10s}" for cell in cells))
    lines.append("")
    if diagnosis.healthy:
        lines.append("Every layer is active and every attempt was blocked.")
    else:
        missing = ", ".join(diagnosis.missing) or "none"
        allowed = [a.name for a in diagnosis.attempts if not a.blocked]
        lines.append(f"Missing layers: {missing}. Allowed: {', '.join(allowed) or 'nothing'}. "
                     "Grading still works (fork, limits and process-group kill always apply); "
                     "--require-sandbox refuses to grade without every layer.")
    return "\n".join(lines) + "\n"
