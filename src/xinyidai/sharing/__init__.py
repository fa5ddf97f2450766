"""Risk sharing (4:3:2:1), regional compensation pools and the claims they pay."""
