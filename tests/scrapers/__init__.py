"""Tests of the scrapers: client, registry, discovery, parsing, stage functions, per-source pages, local web."""
