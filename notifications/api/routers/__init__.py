from notifications.api.app import api
from notifications.api.routers import (
    contacts,
    events,
    inbox,
    records,
    templates,
    tenant,
)

api.add_router("/events", events.router)
api.add_router("/templates", templates.router)
api.add_router("/", contacts.router)
api.add_router("/tenant", tenant.router)
api.add_router("/", records.router)
api.add_router("/inbox", inbox.router)
