"""Start page, health check, language switch and data sources."""
