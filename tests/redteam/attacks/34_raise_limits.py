# attack: raise its own memory limit, then hoard memory
# target: dot
# expect: memory
import resource

import torch

def grad_dot(x):
    try:
        resource.setrlimit(resource.RLIMIT_DATA, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    except (ValueError, OSError):
        pass
    hoard = []
    while True:
        hoard.append(torch.empty(50_000_000))  # 200 MB a time, as fast as the allocator goes
