"""The checklist language: YAML -> validated model. Knows nothing about AWS."""
