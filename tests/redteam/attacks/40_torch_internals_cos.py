# attack: disable torch-function dispatch and call cos through torch's internal function table
# target: sin_derivative
# expect: hides torch calls
import torch

def dsin(x):
    x = x.clone().requires_grad_(True)
    torch.sin(x).sum().backward()
    with torch._C.DisableTorchFunction():
        return x.grad * 0 + torch._C._VariableFunctions.cos(x.detach())


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
