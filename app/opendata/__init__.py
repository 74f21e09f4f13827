"""Open data: awarded grants in the 360Giving Data Standard (public page, downloads, CLI)."""
