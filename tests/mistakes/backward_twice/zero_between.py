# mistake: zeroes x.grad between the two backward calls (as the book does between different functions), giving 4x instead of 8x.
# expect: accumulate
# diagnosis: not_accumulated
import torch


def grad_twice(x):
    x = x.clone().requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward(retain_graph=True)
    x.grad.zero_()
    y.backward()
    return x.grad
