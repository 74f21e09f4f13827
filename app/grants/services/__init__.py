"""Grant services: business rules without Flask request objects; they flush, never commit."""
