"""Shared test settings: property tests are derandomized so every CI run checks the same examples."""

from hypothesis import settings

settings.register_profile("capplan", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("capplan")
