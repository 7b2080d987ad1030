# attack: disable torch-function modes, then use the forbidden cos
# target: sin_derivative
# expect: forbidden
import torch

def dsin(x):
    x = x.clone().requires_grad_(True)
    torch.sin(x).sum().backward()
    with torch._C.DisableTorchFunction():
        return x.grad * 0 + torch.cos(x.detach())
