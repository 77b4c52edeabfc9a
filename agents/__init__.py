"""socialview.agents."""
