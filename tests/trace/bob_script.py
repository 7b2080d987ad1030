# %% [markdown]
# Bob's answers to the automatic differentiation section, as a `# %%` script (VS Code cells).

# %%
!pip install d2l
import unittest

import numpy as np
import torch
from d2l import torch as d2l

# %% First try: forgot requires_grad (raises), fixed in the next cell
x = torch.arange(4.0)
y = 2 * torch.dot(x, x)
y.backward()

# %% x rebuilt from a NumPy array (float64)
x = np.arange(4.0)
x = torch.tensor(x, requires_grad=True)
y = 2 * torch.dot(x, x)
y.backward()
print(x.grad == 4 * x)


# %% Functions that keep their tensors local
def gradient_of_sum():
    x = torch.arange(4.0, requires_grad=True)
    x.sum().backward()
    return x.grad


def gradient_of_square():
    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    y.sum().backward()
    return x.grad


print(gradient_of_sum(), gradient_of_square())

# %% unittest-style checks of the detach example
class TestDetach(unittest.TestCase):
    def test_detach(self):
        x = torch.arange(4.0, requires_grad=True)
        y = x * x
        u = y.detach()
        z = u * x
        z.sum().backward()
        self.assertTrue(torch.equal(x.grad, u))


unittest.main(argv=["bob"], exit=False)

# %% The book's f, but I commented the loop out while debugging
def f(a):
    b = a * 2
    # while b.norm() < 1000:
    #     b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


a = torch.randn(size=(), requires_grad=True)
d = f(a)
d.backward()
print(a.grad == d / a)

# %% Backward twice, keeping the graph
x = torch.arange(4.0, requires_grad=True)
y = 2 * torch.dot(x, x)
y.backward(retain_graph=True)
y.backward()
x.grad

# %% What is my name?
name = input("name? ")

# %% sin and its derivative: but I plotted the derivative against sin x
x = torch.linspace(-5, 5, 100, requires_grad=True)
y = torch.sin(x)
y.sum().backward()
d2l.plot(x.detach(), y.detach())
d2l.plot(y.detach(), x.grad)
