"""Applicant organisations: Saxon Gemeinden and Landkreise (reference data) and Eigenbetriebe."""
