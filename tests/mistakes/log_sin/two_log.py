# mistake: rewrites log(x**2) as 2 * log(x), which is nan for negative x.
# expect: not finite
# diagnosis: wrong_value
import torch


def grad_log_sin(x):
    x = x.clone().requires_grad_(True)
    y = 2 * torch.log(x) * torch.sin(x) + 1 / x
    y.sum().backward()
    return x.grad
