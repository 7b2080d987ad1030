# attack: return a tensor subclass whose __torch_function__ makes comparisons true
# target: dot
# expect: expected
import torch

class Agreeable(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func.__name__ in ("allclose", "equal", "isclose", "eq", "__eq__"):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})

def grad_dot(x):
    return torch.zeros_like(x).as_subclass(Agreeable)
