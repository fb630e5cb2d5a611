"""The office's settings (name, address, sender details) that every message prints."""
