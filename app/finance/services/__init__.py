"""Finance services: no Flask request objects, never commit."""
