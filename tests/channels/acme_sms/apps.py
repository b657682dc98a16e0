from django.apps import AppConfig

from notifications.channels import register_provider


class AcmeSmsConfig(AppConfig):
    name = "tests.channels.acme_sms"
    label = "acme_sms"

    def ready(self) -> None:
        # By import path: the module (and any vendor library it needs) is imported when a tenant first uses it.
        register_provider("acme_sms", "tests.channels.acme_sms.sender:AcmeSmsSender")
