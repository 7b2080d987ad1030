# attack: return NaN everywhere, hoping comparisons with NaN go the wrong way
# target: dot
# expect: nan
import torch

def grad_dot(x):
    x.requires_grad_(True)
    (2 * torch.dot(x, x)).backward()
    return x.grad * float("nan")
