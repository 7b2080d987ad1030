# mistake: returns torch.ones_like(x), the known answer, instead of the gradient from backward().
# expect: not from autograd
# diagnosis: not_from_autograd
import torch


def grad_sum(x):
    return torch.ones_like(x)
