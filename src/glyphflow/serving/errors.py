"""Errors a client can cause, as HTTP answers: a status, a short reason code, a message.

Routes and upload checks raise :class:`ApiError`; the app turns it into
``{"detail": message, "reason": code}`` with the status, so a client can both show the
message and branch on the code. Nothing a client sends should end as a 500.
"""

from __future__ import annotations

__all__ = ["ApiError"]


class ApiError(Exception):
    """A request the service refuses, with the HTTP status and a message that says why."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return self.message
