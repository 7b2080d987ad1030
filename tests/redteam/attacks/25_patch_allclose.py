# attack: patch torch.allclose and Tensor.__eq__ to always agree
# target: dot
# expect: expected
# others: distrusted
import torch

torch.allclose = lambda *args, **kwargs: True
torch.Tensor.__eq__ = lambda self, other: torch.ones_like(self, dtype=torch.bool)

def grad_dot(x):
    return torch.zeros_like(x)
