"""What a provider declares about its configuration, read by `providers add`, the admin and `check_setup`:

- `options_model`: a pydantic model of its non-secret options. It extends `ProviderOptions` (the options every
  provider takes) and forbids unknown keys, so a typo such as `form_number` is an error naming the key.
- `credential_fields`: the names of its secrets, required or not. Credentials are stored encrypted and never
  shown; only their names appear in errors.

Both are class attributes of the `Sender` subclass: reading them imports the provider's module, so vendor
libraries are imported inside the methods that use them, not at module level."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field


class ProviderOptions(BaseModel):
    """Options every provider takes. A provider's own model extends this one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str | None = Field(None, max_length=64, description="Shown in logs and metrics instead of the name")
    rate_per_second: float | None = Field(None, gt=0, le=100_000, description="Token-bucket send rate")
    max_concurrency: int | None = Field(None, ge=1, le=10_000, description="Most sends in flight through one instance")
    timeout: float | None = Field(None, gt=0, le=300, description="Seconds to wait for the provider")


@dataclass(frozen=True, slots=True)
class CredentialField:
    """One secret a provider reads from its credentials (a string)."""

    name: str
    required: bool = True
    description: str = ""


def option_names(model: type[ProviderOptions]) -> list[str]:
    return sorted(model.model_fields)


def required_options(model: type[ProviderOptions]) -> list[str]:
    return sorted(name for name, info in model.model_fields.items() if info.is_required())
