"""CSV import: messy spreadsheets in, clean contacts out, all or nothing.

What real files bring and how it is handled:
- UTF-8 with or without a BOM, or Windows-1252 (Excel's "CSV" on Windows): the file is
  read once to find out, then parsed as that.
- Comma, semicolon or tab delimiters: taken from the header line.
- Header names in any case, with spaces or dashes, and the usual aliases.
- Blank lines are skipped; whitespace is trimmed; CR, LF and other control characters
  inside a cell are turned into spaces, so no value can ever break a mail header.
- The same address twice in one file: the first row is used, later ones are reported.
- Addresses already known are updated (never duplicated); a suppressed address
  (unsubscribed, bounced, erased) is reported as suppressed and left alone.

Rows are processed in batches so memory stays flat however large the file; the caller
owns the transaction, so valid rows land together or, on any failure, not at all.

``reading`` turns the file into rows of cells, ``rows`` judges each row, ``applying``
writes a batch, ``service`` runs the whole import; ``report`` is what it says back.
"""

from contacts.importing.reading import detect_encoding
from contacts.importing.report import ImportReport, RowReport, UnusableFile
from contacts.importing.service import import_contacts

__all__ = ["ImportReport", "RowReport", "UnusableFile", "detect_encoding", "import_contacts"]
