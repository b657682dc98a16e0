"""SMS through Twilio's Messages REST API (2010-04-01).

options: from_number or messaging_service_sid, base_url (default https://api.twilio.com), status_callback.
credentials: account_sid, auth_token."""

from __future__ import annotations

import base64

from pydantic import Field, HttpUrl, model_validator

from notifications.channels.base import Failed, Message, SendResult, Sent, permanent, transient
from notifications.channels.declaration import CredentialField, ProviderOptions
from notifications.channels.http import (
    HttpAnswer,
    HttpRequest,
    HttpSender,
    classify_http,
    parse_retry_after,
)
from notifications.enums import Channel

# Twilio error codes that no retry will fix, and those that mean the number is unusable.
_PERMANENT_CODES = {21211, 21214, 21217, 21219, 21408, 21606, 21610, 21612, 21614, 30003, 30005, 30006}
_INVALID_NUMBER_CODES = {21211, 21214, 21217, 21614, 30005, 30006}


class TwilioOptions(ProviderOptions):
    from_number: str | None = Field(None, min_length=1, max_length=32, description="E.164 number or sender id")
    messaging_service_sid: str | None = Field(None, pattern=r"^MG[0-9a-fA-F]{32}$")
    base_url: HttpUrl | None = None
    status_callback: HttpUrl | None = None

    @model_validator(mode="after")
    def _sender(self) -> TwilioOptions:
        if not self.from_number and not self.messaging_service_sid:
            raise ValueError("from_number or messaging_service_sid is required")
        return self


class TwilioSender(HttpSender):
    name = "twilio"
    channels = frozenset({Channel.SMS})
    options_model = TwilioOptions
    credential_fields = (CredentialField("account_sid"), CredentialField("auth_token"))
    max_body_length = 1600

    async def build_request(self, message: Message) -> HttpRequest:
        sid = self.credentials.get("account_sid")
        token = self.credentials.get("auth_token")
        if not sid or not token:
            raise ValueError("twilio provider needs credentials account_sid and auth_token")
        form = {"To": message.recipient, "Body": message.body[: self.max_body_length]}
        if self.options.get("messaging_service_sid"):
            form["MessagingServiceSid"] = self.options["messaging_service_sid"]
        else:
            form["From"] = self.options.get("from_number", "")
        if self.options.get("status_callback"):
            form["StatusCallback"] = self.options["status_callback"]
        base = self.options.get("base_url", "https://api.twilio.com").rstrip("/")
        basic = base64.b64encode(f"{sid}:{token}".encode()).decode()
        return HttpRequest("POST", f"{base}/2010-04-01/Accounts/{sid}/Messages.json", data=form,
                           headers={"Authorization": f"Basic {basic}"})

    def classify(self, answer: HttpAnswer, message: Message) -> SendResult:
        body = answer.json()
        body = body if isinstance(body, dict) else {}
        if 200 <= answer.status < 300:
            return Sent(str(body.get("sid", "")))
        code = body.get("code")
        if isinstance(code, int) and code in _PERMANENT_CODES:
            return permanent(f"twilio_{code}", f"HTTP {answer.status}", invalid_target=code in _INVALID_NUMBER_CODES)
        if code == 20404 or (answer.status == 404 and not code):
            # The account (SID) is not found: a configuration problem, the next provider may deliver.
            return transient("twilio_20404", "HTTP 404: account not found")
        if answer.status == 429 or code == 20429:
            return transient("rate_limited", "HTTP 429", parse_retry_after(answer.headers.get("Retry-After")))
        result = classify_http(answer)
        if isinstance(code, int) and isinstance(result, Failed) and result.code.startswith("http_"):
            return Failed(result.kind, f"twilio_{code}", result.detail, result.retry_after)
        return result
