# Starter for d2l_autograd_notebook: work through the book's automatic differentiation section here
# (or in a notebook). Write the code as the book does, in top-level cells: the grader runs the cells
# from top to bottom and traces every backward() / torch.autograd.grad call. Replace each
# `raise NotImplementedError` with your cells.

# %%
import torch
from d2l import torch as d2l

# %% A simple function: y = 2 xᵀx, its gradient by y.backward()
raise NotImplementedError

# %% x.sum(), then the non-scalar y = x * x (y.backward(gradient=...) or y.sum().backward())
raise NotImplementedError

# %% Detaching computation: u = y.detach(); z = u * x
raise NotImplementedError

# %% Gradients and Python control flow: the book's f(a), and a.grad == d / a
raise NotImplementedError

# %% Exercises: backward twice, autograd.grad(create_graph=True), a vector a, sin and its derivative
raise NotImplementedError
