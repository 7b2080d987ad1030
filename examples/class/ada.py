"""Ada's autograd assignment: all ten exercises (d2l.ai 2.5, automatic differentiation)."""
import torch


# 1. y = 2 xᵀx
def grad_dot(x):
    x.requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward()
    return x.grad


# 2. y = x.sum()
def grad_sum(x):
    x = x.clone().requires_grad_(True)
    y = x.sum()
    y.backward()
    return x.grad


# 3. backward for a non-scalar y, with gradient v
def grad_square(x, v):
    x.requires_grad_(True)
    y = x * x
    y.backward(gradient=v)
    return x.grad


# 4. detaching computation
def grad_detached(x):
    x.requires_grad_(True)
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    return x.grad


# 5. Python control flow
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
    a.requires_grad_(True)
    d = f(a)
    d.backward()
    return a.grad


# 6. control flow with a vector or matrix a
def grad_f_vector(a):
    a = a.clone().requires_grad_(True)
    d = f(a)
    d.backward(torch.ones_like(d))
    return a.grad


# 7. backward twice
def grad_twice(x):
    x = x.clone().requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward(retain_graph=True)
    y.backward()
    return x.grad


# 8. derivative of sin without cos
def dsin(x):
    x = x.clone().requires_grad_(True)
    torch.sin(x).sum().backward()
    return x.grad


# 9. second derivative of sin
def d2sin(x):
    x = x.clone().requires_grad_(True)
    y = torch.sin(x)
    (dy,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    (d2y,) = torch.autograd.grad(dy.sum(), x)
    return d2y


# 10. f(x) = log(x²) sin x + 1/x
def grad_log_sin(x):
    x = x.clone().requires_grad_(True)
    y = torch.log(x ** 2) * torch.sin(x) + 1 / x
    y.backward(torch.ones_like(y))
    return x.grad
