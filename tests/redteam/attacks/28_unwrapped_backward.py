# attack: call autograd's original backward, bypassing the grader's recorder
# target: dot
# expect: not from autograd
import torch

def grad_dot(x):
    backward = getattr(torch.autograd.backward, "__wrapped__", torch.autograd.backward)
    x = x.clone().requires_grad_(True)
    backward(2 * torch.dot(x, x))
    return 4 * x.detach()
