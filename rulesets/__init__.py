"""The bundled rulesets, one folder per year (data, not code)."""
