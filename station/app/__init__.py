"""The application layer: the running station that the UI and CLI call."""
