"""Tests of the evaluation packages."""
