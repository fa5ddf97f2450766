"""Identity and access: organizations, users, roles, sessions, tokens and API keys."""
