"""Outbox: notifications (WeChat subscribe messages) written beside a decision and sent later.

A failed send is retried with backoff and never blocks or undoes the decision that caused it.
"""
