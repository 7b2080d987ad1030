# mistake: forgets to enable gradients on x.
# expect: does not require grad
# diagnosis: requires_grad_missing
import torch


def dsin(x):
    y = torch.sin(x)
    y.sum().backward()
    return x.grad
