# mistake: computes y from x.data after enabling gradients on x, so y has no graph and backward fails.
# expect: .data
# diagnosis: data_misuse
import torch


def grad_dot(x):
    x = x.clone().requires_grad_(True)
    y = 2 * torch.dot(x.data, x.data)
    y.backward()
    return x.grad
