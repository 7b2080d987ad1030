"""Edsger's homework: one unclosed parenthesis, so nothing can run."""
import math

import torch


def grad_dot(x):
    """Return the gradient of y = 2 * xᵀx with respect to x, computed by autograd."""
    x = x.clone().requires_grad_(True)  # a place to store the gradient
    y = 2 * torch.dot(x, x)
    y.backward()
    return x.grad


def grad_sum(x:
    """Return the gradient of y = x.sum() with respect to x, computed by autograd."""
    x = x.clone().requires_grad_(True)  # fresh tensor: x.grad starts empty
    y = x.sum()
    y.backward()
    return x.grad


def grad_square(x, v):
    """Return x.grad after backpropagating y = x * x with gradient=v."""
    x = x.clone().requires_grad_(True)
    y = x * x
    # y is not a scalar: backward needs the vector v of the vector-Jacobian product
    y.backward(gradient=v)
    return x.grad


def grad_detached(x):
    """Return x.grad for z = u * x with u = (x * x).detach() treated as a constant."""
    x = x.clone().requires_grad_(True)
    y = x * x
    u = y.detach()  # same values as y, but no history: gradients do not flow through u
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
    """Return df/da at the scalar tensor a, computed by autograd."""
    a = a.clone().requires_grad_(True)
    d = f(a)
    d.backward()
    return a.grad


def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def grad_f_vector(a):
    """Return a.grad after backpropagating the sum of f(a), for a vector or matrix a."""
    a = a.clone().requires_grad_(True)
    d = f(a)  # has the shape of a: not a scalar
    d.sum().backward()
    return a.grad


def grad_twice(x):
    """Return x.grad after two backward passes of y = 2 * xᵀx (gradients accumulate)."""
    x = x.clone().requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward(retain_graph=True)  # keep the graph for the second call
    y.backward()  # adds another 4x to x.grad
    return x.grad


def dsin(x):
    """Return d/dx sin(x) at every element of x, computed by autograd (no cos)."""
    x = x.clone().requires_grad_(True)
    y = torch.sin(x)
    y.sum().backward()  # each y_i depends only on x_i
    return x.grad


def d2sin(x):
    """Return d²/dx² sin(x) at every element of x, computed by autograd."""
    x = x.clone().requires_grad_(True)
    y = torch.sin(x)
    # first derivative, recorded in the graph so that it can be differentiated again
    (dy,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    dy.sum().backward()
    return x.grad


def grad_log_sin(x):
    """Return f'(x) elementwise for f(x) = log(x**2) * sin(x) + 1/x, computed by autograd."""
    x = x.clone().requires_grad_(True)
    y = torch.log(x ** 2) * torch.sin(x) + 1 / x
    y.sum().backward()
    return x.grad
