"""Channel adapters: each turns platform events into `Incoming` and `Reply` into platform calls."""
