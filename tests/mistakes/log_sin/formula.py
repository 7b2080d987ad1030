# mistake: differentiates by hand with the chain rule and returns the formula instead of using autograd.
# expect: not from autograd
# diagnosis: not_from_autograd
import torch


def grad_log_sin(x):
    return 2 * torch.sin(x) / x + torch.log(x ** 2) * torch.cos(x) - 1 / x ** 2
