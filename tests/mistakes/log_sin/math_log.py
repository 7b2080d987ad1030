# mistake: uses math.log and math.sin, which only accept a single number, on a tensor.
# expect: only one element tensors
# diagnosis: math_on_tensor
import math

import torch


def grad_log_sin(x):
    x = x.clone().requires_grad_(True)
    y = math.log(x ** 2) * math.sin(x) + 1 / x
    y.sum().backward()
    return x.grad
