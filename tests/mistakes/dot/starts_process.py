# mistake: shells out to a program (to check the answer with another tool) while being graded.
# expect: sandbox refused
# diagnosis: sandbox_refused
import subprocess

import torch


def grad_dot(x):
    subprocess.run(["python3", "-c", "print(4)"], check=True)
    x = x.clone().requires_grad_(True)
    (2 * torch.dot(x, x)).backward()
    return x.grad
