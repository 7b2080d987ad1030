# mistake: copies the book's x = torch.arange(4) (an integer tensor) into the function, which cannot require grad.
# expect: floating point
# diagnosis: integer_tensor
import torch


def grad_dot(x):
    x = torch.arange(4)
    x.requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward()
    return x.grad
