# attack: find the harness in sys.modules and forge an autograd record
# target: dot
# expect: keyerror
import sys

def grad_dot(x):
    harness = sys.modules["grader.sandbox.harness"]
    harness._State.evidence.records.append({"kind": "backward", "results": []})
    return 4 * x
