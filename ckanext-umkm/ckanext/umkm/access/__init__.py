"""Restricted data (Pasal 23, 25, 27, 31–33; Lampiran I): the one gate
(``gate``), agency scopes (``scope``), grants (``grants``), row-scoped
extracts (``extracts``), confidentiality statements (``confidentiality``) and
two-step login (``two_factor``)."""
