# attack: reach cos through getattr with a computed name
# target: sin_derivative
# expect: forbidden
import torch

def dsin(x):
    x = x.clone().requires_grad_(True)
    torch.sin(x).sum().backward()
    return x.grad * 0 + getattr(torch, "co" + "s")(x.detach())
