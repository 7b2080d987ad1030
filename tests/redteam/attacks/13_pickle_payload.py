# attack: send a pickle on the result pipe, hoping the grader unpickles it
# target: dot
# expect: malformed
import os
import pickle
import struct


class Payload:
    def __reduce__(self):
        return (open, ("/tmp/pwned-pickle", "w"))


def grad_dot(x):
    blob = pickle.dumps(Payload())
    for fd in range(3, 64):
        try:
            os.write(fd, struct.pack("<IQ", len(blob), 0) + blob)
        except OSError:
            pass
