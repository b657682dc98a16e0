"""The admin's ProviderConfig form: options as JSON, and credentials as a write-only JSON field (never shown; left
empty on an edit it keeps the stored ones). The channel, options and credentials are checked against the
provider's declaration (provider_config.py), as `providers add` and `check_setup` do."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from notifications.channels.models import ProviderConfig
from notifications.channels.provider_config import config_problems
from notifications.channels.registry import provider_names


class WriteOnlyTextarea(forms.Textarea):
    """Never renders a value: not the stored secrets, and not what was posted when the form comes back with an
    error."""

    def format_value(self, value: Any) -> None:
        return None


class ProviderConfigForm(forms.ModelForm):  # type: ignore[type-arg]  # generic in django-stubs only, not at runtime
    provider = forms.ChoiceField(choices=())
    credentials = forms.CharField(
        required=False, widget=WriteOnlyTextarea(attrs={"rows": 4, "autocomplete": "off"}),
        help_text="JSON object of the provider's secrets, stored encrypted and never shown. Leave empty to keep "
                  "the stored credentials.",
    )

    class Meta:
        model = ProviderConfig
        fields = ("tenant", "channel", "provider", "priority", "enabled", "options")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read per form: providers registered by other apps' ready() are offered too.
        self.fields["provider"] = forms.ChoiceField(choices=[(name, name) for name in provider_names()])

    def clean_credentials(self) -> dict[str, Any] | None:
        text = self.cleaned_data.get("credentials", "").strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            raise forms.ValidationError("credentials: not valid JSON") from None  # the text may hold a secret
        if not isinstance(value, dict):
            raise forms.ValidationError("credentials must be a JSON object")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or self.cleaned_data
        if any(name in self.errors for name in ("provider", "channel", "options", "credentials")):
            return cleaned  # the field's own error says what is wrong
        credentials = cleaned.get("credentials")
        if credentials is None:
            credentials = self.instance.credentials if self.instance.pk else {}
        else:
            self.instance.credentials = credentials  # encrypted now, saved with the row
        options = {} if cleaned.get("options") is None else cleaned["options"]
        problems: dict[str, list[str]] = {}
        for field, message in config_problems(cleaned["provider"], cleaned["channel"], options, credentials):
            problems.setdefault(field, []).append(message)
        for field, messages in problems.items():
            self.add_error(field, messages)
        return cleaned
