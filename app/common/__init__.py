"""Shared building blocks; imports no blueprint."""
