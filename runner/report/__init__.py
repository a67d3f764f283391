"""Renderers: RunResult -> JUnit XML, HTML, JSON, metrics. They read only RunResult."""
