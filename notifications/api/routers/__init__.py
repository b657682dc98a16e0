"""The API's routers, one module per resource; notifications.api.app attaches them to the NinjaAPI object."""
