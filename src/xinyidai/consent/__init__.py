"""The credit commitment, authorization letters, and the one access decision."""
