# attack: crash the interpreter through ctypes
# target: dot
# expect: crashed
import ctypes

def grad_dot(x):
    ctypes.string_at(0)
