# mistake: converts x to NumPy to plot it, as the book's d2l.plot call seems to, without detaching it first.
# expect: numpy()
# diagnosis: numpy_requires_grad
import torch


def dsin(x):
    x = x.clone().requires_grad_(True)
    y = torch.sin(x)
    points = list(zip(x.numpy(), y.detach().numpy()))
    print(points[:3])
    y.sum().backward()
    return x.grad
