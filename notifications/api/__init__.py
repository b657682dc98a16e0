"""The HTTP API (django-ninja) under /api/v1; OpenAPI docs at /api/docs. The NinjaAPI object is in
`notifications.api.app`: importing this package (its models, for the app registry) must not load the routers, which
would add half a second to every worker's and consumer's start."""
