"""An email backend that refuses its first ``FAILURES`` messages, then delivers like Django's
in-memory backend (``mail.outbox``): a mail server that is down for a while."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from typing import Any

from django.core.mail.backends.locmem import EmailBackend


class FailingTwiceBackend(EmailBackend):
    FAILURES = 2
    calls = 0

    def send_messages(self, messages: Sequence[Any]) -> int:
        type(self).calls += 1
        if type(self).calls <= self.FAILURES:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)
