# attack: ignore SIGTERM and spin forever
# target: dot
# expect: time limit
import signal

def grad_dot(x):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        pass
