# mistake: calls backward on the vector sin(x) without summing it or passing a gradient.
# expect: grad can be implicitly created only for scalar outputs
# diagnosis: nonscalar_backward
import torch


def dsin(x):
    x = x.clone().requires_grad_(True)
    y = torch.sin(x)
    y.backward()
    return x.grad
