"""bouncesink: an SMTP sink that receives bounces, classifies them and keeps suppressions."""

__version__ = "0.1.0"
