"""Grading with nbgrader: releasing student notebooks, the student's self-check, and
(instructor) autograding a class.

nbgrader is the engine; this package only adds the course's conventions (where the
notebooks live, how exercises are named) and readable reports.
"""
