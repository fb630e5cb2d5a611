"""Cascade tracking: share links, tracked links, the public consultation page, sign-ups,
cascade confirmations and the reports built from them (DESIGN.md, issue 7)."""
