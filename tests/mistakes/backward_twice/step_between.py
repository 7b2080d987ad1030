# mistake: takes a gradient step on x (in place, under no_grad) between the two backward calls, as in a training loop; the retained graph needs the old x.
# expect: modified by an inplace operation
# diagnosis: inplace_modified
import torch


def grad_twice(x):
    x = x.clone().requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward(retain_graph=True)
    with torch.no_grad():
        x -= 0.1 * x.grad
    y.backward()
    return x.grad
