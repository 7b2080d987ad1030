# mistake: uses the known derivative torch.cos(x), which the exercise forbids.
# expect: cos
# diagnosis: forbidden_operation
import torch


def dsin(x):
    return torch.cos(x)
