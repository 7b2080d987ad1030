# attack: os._exit(0): leave the process without raising
# target: dot
# expect: exited with status 0
import os

def grad_dot(x):
    os._exit(0)
