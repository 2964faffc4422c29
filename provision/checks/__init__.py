"""Checks run with another interpreter (a fresh venv's), so stdlib-only scripts."""
