"""Run context, run store (directories plus a SQLite index) and execution."""
