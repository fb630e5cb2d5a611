"""Bulletins sent on their own: any bulletin to any audience, as soon as approved or at
a time moved by the sending rules, under the same two-person rule and content freezing
as a consultation's messages. A bulletin may be sent more than once (another audience,
or again next month as a copy); each time is a send of its own."""
