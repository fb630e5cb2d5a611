"""Cascade tracking: share links, tracked links, the public consultation page, sign-ups,
cascade confirmations and the reports built from them (README, "Cascade tracking")."""
