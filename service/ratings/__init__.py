"""Satisfaction ratings (满意度评价) of sessions and classes."""
