# mistake: calls y.backward() twice without retain_graph=True, so the second call finds the graph freed.
# expect: retain_graph
# diagnosis: retain_graph_missing
import torch


def grad_twice(x):
    x = x.clone().requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward()
    y.backward()
    return x.grad
