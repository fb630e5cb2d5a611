"""Consultations: a consultation is a timeline of sends.

- ``details``: what a consultation is made of, its check, and the refusals;
- ``planning``: the stored timeline, made to match the plan the rules give;
- ``editing``: creating one and saving an edit;
- ``lifecycle``: submit, approve, return to draft, cancel, open now, send now, replan;
- ``documents``: the documents the launch carries;
- ``read_models``: finding and showing one, its recipients and checks;
- ``overview``: the list's next send, the calendar's month, the timeline picture.
"""
