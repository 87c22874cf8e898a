"""Services: one module per service, each constructed with its collaborators."""
