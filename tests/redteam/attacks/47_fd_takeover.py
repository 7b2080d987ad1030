# attack: take the result pipe over (dup it, or reopen it through /proc/self/fd), so that the harness's frames could be thrown away and only forged ones reach the grader; falls back on the forbidden cos
# target: sin_derivative
# expect: cos
# needs: seccomp,namespaces
import fcntl
import os
import stat

import torch


def _result_fd():
    for fd in range(3, 256):
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        if stat.S_ISFIFO(mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
            return fd
    return None


def dsin(x):
    fd = _result_fd()
    attempts = (lambda: os.dup(fd), lambda: os.dup2(fd, 200), lambda: fcntl.fcntl(fd, fcntl.F_DUPFD, 100),
                lambda: os.open(f"/proc/self/fd/{fd}", os.O_WRONLY))
    for attempt in attempts:
        try:
            second = attempt()
        except OSError:
            continue
        os.write(second, b"\xff" * 64)  # a takeover that worked: the grader sees garbage, never a pass
    return torch.cos(x)
