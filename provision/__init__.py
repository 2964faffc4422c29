"""provision: take a machine to a working Python development environment, and explain pip failures.

The flow runs one way: facts -> profile -> steps -> plan -> runner -> recap.
"""

__version__ = "0.1.0"
