"""The edges: configuration, CLI, app assembly, one adapter per platform."""
