"""Credit evaluation: the scorecard toolkit and the platform rating of every enterprise."""
