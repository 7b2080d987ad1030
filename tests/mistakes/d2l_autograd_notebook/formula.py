# mistake: a whole notebook without autograd: derivatives typed as formulas, sympy and hand-written differences.
# expect: not from autograd
# diagnosis: trace_autograd
# %%
import torch

x = torch.arange(4.0)
grad = 4 * x  # "the gradient of 2xᵀx"
grad

# %%
import sympy

s = sympy.Symbol("s")
sympy.diff(sympy.sin(s), s)

# %%
x = torch.linspace(-5, 5, 100)
h = 1e-3
slope = (torch.sin(x + h) - torch.sin(x - h)) / (2 * h)
import matplotlib.pyplot as plt

plt.plot(x, torch.sin(x))
plt.plot(x, slope)
plt.show()
