# mistake: uses x.data inside sin ("just the numbers", as in old tutorials), so autograd misses sin's part of the gradient.
# expect: .data
# diagnosis: data_misuse
import torch


def grad_log_sin(x):
    x = x.clone().requires_grad_(True)
    y = torch.log(x ** 2) * torch.sin(x.data) + 1 / x
    y.sum().backward()
    return x.grad
