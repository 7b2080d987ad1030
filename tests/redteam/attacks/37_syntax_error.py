# attack: a file that does not parse
# target: dot
# expect: syntaxerror
# others: failed
def grad_dot(x)
    return x
