# attack: a fork bomb
# target: dot
# expect: operation not permitted
# needs: seccomp
import os

def grad_dot(x):
    while True:
        os.fork()
