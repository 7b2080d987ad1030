# mistake: calls y.backward() on the non-scalar y without a gradient argument.
# expect: grad can be implicitly created only for scalar outputs
# diagnosis: nonscalar_backward
import torch


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    y = x * x
    y.backward()
    return x.grad
