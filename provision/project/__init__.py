"""The project: its config, its packaging, the interpreter it asks for."""
