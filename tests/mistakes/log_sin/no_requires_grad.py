# mistake: forgets to enable gradients on x.
# expect: does not require grad
# diagnosis: requires_grad_missing
import torch


def grad_log_sin(x):
    y = torch.log(x ** 2) * torch.sin(x) + 1 / x
    y.sum().backward()
    return x.grad
