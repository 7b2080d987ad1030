# mistake: stops after one backward pass and returns the first derivative cos(x).
# expect: first derivative
# diagnosis: first_derivative
import torch


def d2sin(x):
    x = x.clone().requires_grad_(True)
    y = torch.sin(x)
    y.sum().backward(create_graph=True)
    return x.grad
