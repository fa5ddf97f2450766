"""Statistics: the figures a credit center is judged by, summarized per day and dimension."""
