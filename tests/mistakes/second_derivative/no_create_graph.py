# mistake: computes the first derivative without create_graph=True, so it cannot be differentiated again.
# expect: create_graph
# diagnosis: create_graph_missing
import torch


def d2sin(x):
    x = x.clone().requires_grad_(True)
    y = torch.sin(x)
    (dy,) = torch.autograd.grad(y.sum(), x)
    dy.sum().backward()
    return x.grad
