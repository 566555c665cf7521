"""Evaluation of chiso's extractor on real text (not shipped with the package)."""
