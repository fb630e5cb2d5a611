"""Approval as a conversation: who submitted, approved or sent back a consultation or a
bulletin send, with the approver's comment and what was approved (for the next diff)."""
