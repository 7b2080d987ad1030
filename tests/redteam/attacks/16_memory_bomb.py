# attack: allocate until the machine runs out of memory
# target: dot
# expect: memory
import torch


def grad_dot(x):
    hoard = []
    while True:
        hoard.append(torch.empty(50_000_000))  # 200 MB a time, as fast as the allocator goes
