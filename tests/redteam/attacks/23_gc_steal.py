# attack: search the garbage collector for the expected answer
# target: dot
# expect: gc.get_objects
import gc
import torch

def grad_dot(x):
    for obj in gc.get_objects():
        if isinstance(obj, torch.Tensor) and obj.shape == x.shape and obj is not x:
            pass
    x = x.clone().requires_grad_(True)
    (2 * torch.dot(x, x)).backward()
    return x.grad
