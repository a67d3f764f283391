"""Execution: checklist model -> results. Knows nothing about any particular action."""
