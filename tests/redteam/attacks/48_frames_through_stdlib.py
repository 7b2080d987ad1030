# attack: reach the interpreter's frames through the standard library (traceback.walk_stack calls sys._getframe for its caller), where the recorders' state lives
# target: dot
# expect: not trusted
import traceback

import torch


def grad_dot(x):
    frames = [frame for frame, _ in traceback.walk_stack(None)]
    print(len(frames), "frames reached")
    x.requires_grad_(True)
    (2 * torch.dot(x, x)).backward()
    return x.grad
