"""The trial: its configuration (one TOML file, read once per run) and the error every stage
raises for unusable input. Every other package may import this one; it imports none of them
except ``ctcae`` (the attribution scale)."""
