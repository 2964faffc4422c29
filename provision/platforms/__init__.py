"""Platforms: the profile loader, presets of freshly installed machines, package-manager adapters."""
