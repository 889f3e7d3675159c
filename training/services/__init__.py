"""Writes of the training domain (registry, runs, generation jobs)."""
