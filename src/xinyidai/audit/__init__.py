"""Who saw what of an enterprise's data, why, and on what basis: stored and in the ledger."""
