# mistake: computes the gradient with autograd but then "checks" it and returns x.cos() instead.
# expect: cos
# diagnosis: forbidden_operation
import torch


def dsin(x):
    x = x.clone().requires_grad_(True)
    y = torch.sin(x)
    y.sum().backward()
    if not torch.allclose(x.grad, x.cos()):
        print("autograd disagrees with cos")
    return x.detach().cos()
