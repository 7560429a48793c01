"""Server-rendered pages (Jinja2, Simplified Chinese); live parts update over WebSocket."""
