"""Programme monitoring (issue 15): dashboard, map of Saxony and public figures."""
