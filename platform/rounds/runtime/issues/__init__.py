"""Closed-loop issues: a problem found in the field, assigned, rectified, verified, closed.

The assigner (交办人) and the assignee (整改责任人) both sign it off; every step is an event kept
forever.
"""
