"""How a template works and what depends on it: its flow as a graph (`flow`, drawn by `draw`,
written as Mermaid), and what a new version breaks for the templates that use it (`semver`)."""
