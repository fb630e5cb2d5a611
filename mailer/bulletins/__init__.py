"""Bulletins: what an editor writes, its attachments, previews, proof sends and warnings,
and the path from a bulletin to a prepared message."""
