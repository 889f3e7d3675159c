"""Writes of the annotation domain. Each service is keyword-only, typed, and atomic when it
touches several rows; refusals raise ``flywheel.errors.ApplicationError``."""
