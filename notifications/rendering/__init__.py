"""Template resolution, the sandboxed Jinja engine and its cache, default content."""
