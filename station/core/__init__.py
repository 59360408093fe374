"""The ground floor: models, errors, configuration, messages, events, file helpers."""
