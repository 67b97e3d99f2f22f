"""07 CNN: bypasses, typical mistakes and claims (read by tests/test_chapters.py)."""

from dlcourse.grading.variants import Variant

BYPASSES = [
    Variant("ex_conv2d", "call the library's convolution", kind="bypass", source='''
def my_conv2d(x, W, b, stride=1, padding=0):
    return conv2d(x, W, b, stride=stride, padding=padding)
'''),
]

MISTAKES = [
]

CLAIMS = [
]
