# attack: scribble binary garbage on every inherited file descriptor
# target: dot
# expect: malformed
import os

def grad_dot(x):
    for fd in range(3, 64):
        try:
            os.write(fd, b"\xff\x00garbage" * 100)
        except OSError:
            pass
