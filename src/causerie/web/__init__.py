"""The transport: HTTP routes and WebSocket endpoints. Parse, call one action, serialise."""
