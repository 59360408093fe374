"""Messages for the person at the entry PC, in their language, also kept in the log."""

from __future__ import annotations

import logging

from station.core import messages

#: The CLI prints this logger's records as plain lines; the log file keeps them too.
USER_LOGGER = "station.collector.user"
_user = logging.getLogger(USER_LOGGER)


class Console:
    """Says translated messages (``vi`` or ``en``) through the user logger."""

    def __init__(self, lang: str = "vi") -> None:
        self.lang = lang

    def __call__(self, key: str, /, **values: object) -> None:
        self.say(key, logging.INFO, **values)

    def say(self, key: str, level: int, /, **values: object) -> None:
        _user.log(level, "%s", self.render(key, **values))

    def warn(self, key: str, /, **values: object) -> None:
        self.say(key, logging.WARNING, **values)

    def render(self, key: str, /, **values: object) -> str:
        return messages.render(key, self.lang, **values)
