"""Channel-neutral dialogs: one module per feature, each with its own `router`."""
