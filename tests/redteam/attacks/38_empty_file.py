# attack: an empty file
# target: dot
# expect: not defined
# others: failed

