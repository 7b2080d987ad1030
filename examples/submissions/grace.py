"""Grace's autograd assignment (d2l.ai 2.5). Mostly right, with three typical mistakes:
grad_square ignores v, grad_detached forgets .detach(), grad_twice has no retain_graph."""
import torch


def grad_dot(x):
    x = x.clone().requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward()
    return x.grad


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    y = x.sum()
    y.backward()
    return x.grad


def grad_square(x, v):
    # MISTAKE: copied the book's ones instead of using v
    x = x.clone().requires_grad_(True)
    y = x * x
    y.backward(gradient=torch.ones_like(y))
    return x.grad


def grad_detached(x):
    # MISTAKE: no .detach(), so this is the gradient of x**3 (3x²)
    x = x.clone().requires_grad_(True)
    y = x * x
    u = y
    z = u * x
    z.sum().backward()
    return x.grad


def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def grad_f(a):
    a = a.clone().requires_grad_(True)
    d = f(a)
    d.backward()
    return a.grad


def grad_f_vector(a):
    a = a.clone().requires_grad_(True)
    d = f(a)
    d.sum().backward()
    return a.grad


def grad_twice(x):
    # MISTAKE: the first backward frees the graph (no retain_graph=True)
    x = x.clone().requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward()
    y.backward()
    return x.grad


def dsin(x):
    x = x.clone().requires_grad_(True)
    y = torch.sin(x)
    y.sum().backward()
    return x.grad


def d2sin(x):
    x = x.clone().requires_grad_(True)
    y = torch.sin(x)
    (dy,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    dy.sum().backward()
    return x.grad


def grad_log_sin(x):
    x = x.clone().requires_grad_(True)
    y = torch.log(x ** 2) * torch.sin(x) + 1 / x
    y.sum().backward()
    return x.grad
