# mistake: follows the book's cells in one go but leaves out x.grad.zero_(), so the earlier 4x gradient is still in x.grad.
# expect: still held the gradient of an earlier backward
# diagnosis: accumulated
import torch


def grad_sum(x):
    x.requires_grad_(True)
    y = 2 * torch.dot(x.flatten(), x.flatten())
    y.backward()
    y = x.sum()
    y.backward()
    return x.grad
