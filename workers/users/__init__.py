"""Users: accounts, roles, passwords, API keys of client applications, token revocation."""
