"""The credit records held by the data center, and every version each has had."""
