"""A user's own app adding an SMS provider, as notifications/channels/README.md ("Add a provider") says:
a Sender subclass with its declaration (sender.py), registered by import path in AppConfig.ready() (apps.py)."""
