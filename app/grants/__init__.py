"""Grants: applications by municipalities, consultations, review, decisions and the Bescheid."""
