"""Consultation timelines and the scheduler process that fires each send on time."""
