"""The IIO review workflow: cases, their states and transitions, four eyes, preview."""
