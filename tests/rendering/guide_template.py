"""The guide's example of a tenant template (the welcome e-mail), shared by the rendering tests."""

from __future__ import annotations

GUIDE_TEMPLATE = dict(
    name="user_registration_completed_email",
    channel="email",
    content={
        "subject": "Welcome to {{company_name}}, {{first_name}}!",
        "body": """
        Dear {{first_name}},

        Welcome to {{company_name}}! Your account is now active.

        Best regards,
        {{company_name}} Team
        """,
    },
    placeholders=["first_name", "company_name"],
    is_active=True,
)
