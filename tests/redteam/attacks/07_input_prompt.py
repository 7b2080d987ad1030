# attack: input() waits for a keyboard that is not there
# target: dot
# expect: eoferror
def grad_dot(x):
    answer = input("gradient? ")
    return answer
