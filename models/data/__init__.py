"""Datasets as 8-bit pixel images, read from local files only."""
