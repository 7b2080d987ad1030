# mistake: forgets to enable gradients on x.
# expect: does not require grad
import torch


def dsin(x):
    y = torch.sin(x)
    y.sum().backward()
    return x.grad
