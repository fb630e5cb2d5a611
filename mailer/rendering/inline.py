"""CSS inlining with premailer, once per prepared send (and cached).

premailer has habits that matter for email and for the HTML checker:

- it would strip ``!important`` from rules it keeps in ``<style>`` (``@media`` blocks),
  which a phone layout relies on: ``strip_important=False``;
- it copies CSS into presentational attributes (``width``, ``align``, ``bgcolor``...)
  that HTML5 checkers reject: all of them are disabled, and the templates set what
  Outlook needs explicitly;
- it URL-encodes ``{{ ... }}`` inside attributes: personal values are never Jinja at
  this point, only letters-and-digits markers (see ``placeholders``).
"""

from __future__ import annotations

import logging
from functools import lru_cache

from premailer import Premailer

# Everything premailer would turn into an HTML attribute (premailer.premailer's list).
_PRESENTATIONAL = ["width", "height", "align", "valign", "bgcolor", "background"]


@lru_cache(maxsize=32)
def inline_css(html: str) -> str:
    """``html`` with its <style> rules applied as inline styles, doctype kept."""
    inliner = Premailer(
        html,
        strip_important=False,
        keep_style_tags=False,
        remove_classes=False,
        disable_basic_attributes=_PRESENTATIONAL,
        disable_validation=True,
        allow_network=False,
        allow_loading_external_files=False,
        cssutils_logging_level=logging.CRITICAL,
        capitalize_float_margin=False,
        exclude_pseudoclasses=True,
    )
    result = inliner.transform(pretty_print=False)
    if not result.lstrip().lower().startswith("<!doctype"):
        result = "<!DOCTYPE html>\n" + result
    return result
