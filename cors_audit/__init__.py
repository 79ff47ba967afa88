"""cors-audit: browser-exact CORS verdicts and risky CORS configurations from captured traffic."""

__version__ = "0.1.0"
