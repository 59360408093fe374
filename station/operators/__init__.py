"""Operators: shifts, sign-in and progress."""
