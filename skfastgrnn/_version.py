"""The package version, in one place (read by pyproject.toml without importing the package)."""

__version__ = "0.1.0"
