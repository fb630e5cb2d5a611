"""Admin accounts: users, roles, sign-in with throttling."""
