"""The built-in handlers: the guide's 11 event types, invoice.payment.succeeded, and the control event
notification.cancel (no notifications of its own)."""

from notifications.events.handlers.app import (
    CommentMentionedHandler,
    ContentLikedHandler,
    InvoicePaymentFailedHandler,
    InvoicePaymentSucceededHandler,
    TaskAssignedHandler,
)
from notifications.events.handlers.auth import (
    LoginFailedHandler,
    LoginSucceededHandler,
    PasswordResetRequestedHandler,
    UserRegistrationCompletedHandler,
)
from notifications.events.handlers.control import NotificationCancelHandler
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
    InvoicePaymentSucceededHandler,
    NotificationCancelHandler,
)

__all__ = ["BUILTIN_HANDLERS", *(cls.__name__ for cls in BUILTIN_HANDLERS)]
