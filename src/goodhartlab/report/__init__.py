"""Plot helpers (used by experiments' report functions) and the self-contained HTML pages."""
