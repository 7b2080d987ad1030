# mistake: uses backward(create_graph=True) twice, so the second derivative is added to the first one left in x.grad (cos x - sin x).
# expect: gradient accumulated
# diagnosis: accumulated
import torch


def d2sin(x):
    x = x.clone().requires_grad_(True)
    y = torch.sin(x)
    y.sum().backward(create_graph=True)
    x.grad.sum().backward()
    return x.grad
