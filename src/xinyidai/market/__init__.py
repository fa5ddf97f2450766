"""The financing marketplace: products, needs and matching, applications, loans."""
