"""Source-specific page parsers, named by the `parser` key of a source entry."""
