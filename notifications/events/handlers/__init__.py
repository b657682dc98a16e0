"""The built-in handlers for the guide's 11 event types."""

from notifications.events.handlers.app import (
    CommentMentionedHandler,
    ContentLikedHandler,
    InvoicePaymentFailedHandler,
    TaskAssignedHandler,
)
from notifications.events.handlers.auth import (
    LoginFailedHandler,
    LoginSucceededHandler,
    PasswordResetRequestedHandler,
    UserRegistrationCompletedHandler,
)
from notifications.events.handlers.security import (
    TwoFactorAttemptFailedHandler,
    TwoFactorCodeRequestedHandler,
    TwoFactorMethodChangedHandler,
)

BUILTIN_HANDLERS = (
    UserRegistrationCompletedHandler,
    PasswordResetRequestedHandler,
    LoginSucceededHandler,
    LoginFailedHandler,
    InvoicePaymentFailedHandler,
    TaskAssignedHandler,
    CommentMentionedHandler,
    ContentLikedHandler,
    TwoFactorCodeRequestedHandler,
    TwoFactorAttemptFailedHandler,
    TwoFactorMethodChangedHandler,
)

__all__ = ["BUILTIN_HANDLERS", *(cls.__name__ for cls in BUILTIN_HANDLERS)]
