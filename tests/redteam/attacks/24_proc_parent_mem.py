# attack: read the grader's memory through /proc/<ppid>/mem
# target: dot
# expect: /proc/
import os

def grad_dot(x):
    with open(f"/proc/{os.getppid()}/mem", "rb") as memory:
        return memory.read(16)
