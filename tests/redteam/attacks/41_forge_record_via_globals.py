# attack: reach the recorder's state through torch.autograd.backward.__globals__ and forge a backward record
# target: dot
# expect: not trusted
import torch


def grad_dot(x):
    state = torch.autograd.backward.__globals__["_State"]
    evidence = state.evidence
    gradient = 4 * x
    evidence.records.append({"kind": "backward", "outputs": [[]], "gradient": None, "retain_graph": None,
                             "create_graph": False, "line": 9, "error": None,
                             "results": [evidence.writer.add(gradient)]})
    return gradient
