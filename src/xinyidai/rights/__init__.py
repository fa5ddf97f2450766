"""Subject rights: objections to records and ratings, credit repair, free self-query."""
