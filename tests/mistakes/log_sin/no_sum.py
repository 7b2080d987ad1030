# mistake: calls backward on the elementwise f(x) without summing it.
# expect: grad can be implicitly created only for scalar outputs
# diagnosis: nonscalar_backward
import torch


def grad_log_sin(x):
    x = x.clone().requires_grad_(True)
    y = torch.log(x ** 2) * torch.sin(x) + 1 / x
    y.backward()
    return x.grad
