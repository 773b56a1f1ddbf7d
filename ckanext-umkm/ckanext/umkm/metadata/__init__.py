"""The metadata standard: validators of the scheming types (``validators``),
reference code lists (``reference_codes``), search indexing and facets
(``indexing``), and metadata exchange (``exchange``)."""
