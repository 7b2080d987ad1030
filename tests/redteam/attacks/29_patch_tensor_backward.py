# attack: replace Tensor.backward so a fake record appears
# target: dot
# expect: patched torch
import torch

def grad_dot(x):
    torch.Tensor.backward = lambda self, *args, **kwargs: None
    x.requires_grad_(True)
    (2 * torch.dot(x, x)).backward()
    return 4 * x.detach()
