# Model answer of d2l_autograd_notebook: the book's automatic differentiation section as a `# %%` script,
# graded in trace mode (its cells run top to bottom; no named functions are needed).

# %%
import torch
from d2l import torch as d2l

# %% A simple function
x = torch.arange(4.0)
x.requires_grad_(True)
x.grad  # None by default

# %%
y = 2 * torch.dot(x, x)
y.backward()
x.grad

# %%
x.grad == 4 * x

# %% Another function of x
x.grad.zero_()
y = x.sum()
y.backward()
x.grad

# %% Backward for non-scalar variables
x.grad.zero_()
y = x * x
y.backward(gradient=torch.ones(len(y)))
x.grad

# %% Detaching computation
x.grad.zero_()
y = x * x
u = y.detach()
z = u * x
z.sum().backward()
x.grad == u

# %%
x.grad.zero_()
y.sum().backward()
x.grad == 2 * x

# %% Gradients and Python control flow
def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


a = torch.randn(size=(), requires_grad=True)
d = f(a)
d.backward()
a.grad == d / a

# %% Exercise: the second derivative needs a graph of the first
x = torch.arange(4.0, requires_grad=True)
y = (x ** 3).sum()
(g,) = torch.autograd.grad(y, x, create_graph=True)
g.sum().backward()
x.grad  # 6x

# %% Exercise: backward twice
x = torch.arange(4.0, requires_grad=True)
y = 2 * torch.dot(x, x)
y.backward(retain_graph=True)
y.backward()
x.grad  # 8x: the two gradients accumulate

# %% Exercise: a vector a
a = torch.randn(size=(3,), requires_grad=True)
d = f(a)
d.sum().backward()
a.grad == d / a

# %% Exercise: sin and its derivative by autograd
x = torch.linspace(-2 * torch.pi, 2 * torch.pi, 100, requires_grad=True)
y = torch.sin(x)
y.sum().backward()
d2l.plot(x.detach(), [y.detach(), x.grad], 'x', 'f(x)', legend=['sin(x)', 'd sin(x)/dx'])
