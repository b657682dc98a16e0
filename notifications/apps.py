from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from notifications import checks, db  # noqa: F401  (registers system checks and the `any` lookup)
        from notifications.events import content
        from notifications.events.configured import load_configured_handlers
        from notifications.events.handlers import BUILTIN_HANDLERS
        from notifications.events.registry import event_registry
        from notifications.intake.service import process_events
        from notifications.rendering.engine import render_default

        # The lower layers call up through these bindings rather than importing intake and rendering themselves.
        event_registry.bind(process_events)
        content.bind_renderer(render_default)
        for handler_cls in BUILTIN_HANDLERS:
            if event_registry.get_handler(handler_cls.event_types[0]) is None:
                event_registry.register(handler_cls())
        # The host project's handlers (NOTIFICATIONS["HANDLERS"]): every process loads the same ones; a bad entry
        # stops start-up with ImproperlyConfigured naming it.
        load_configured_handlers(event_registry)
        # Tenant-defined event types (notifications/tenant_types): looked up per tenant, loaded per batch.
        from notifications.events.contracts import event_type_sources
        from notifications.tenant_types.contracts import tenant_type_source
        from notifications.tenant_types.source import tenant_types

        event_registry.bind_tenant_types(tenant_types)
        if tenant_type_source not in event_type_sources:
            event_type_sources.append(tenant_type_source)
        # Connects the template-cache invalidation signal.
        from notifications.channels.inbox import inbox_messages_created
        from notifications.channels.realtime import on_inbox_messages_created
        from notifications.rendering import service  # noqa: F401

        inbox_messages_created.connect(on_inbox_messages_created, dispatch_uid="notifications-realtime")
