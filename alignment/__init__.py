"""socialview.alignment."""
