# attack: disable torch-function dispatch and call cos through torch's internal function table
# target: sin_derivative
# expect: hides torch calls
import torch

def dsin(x):
    x = x.clone().requires_grad_(True)
    torch.sin(x).sum().backward()
    with torch._C.DisableTorchFunction():
        return x.grad * 0 + torch._C._VariableFunctions.cos(x.detach())
