"""The instructor and admin workspace: pages, their states, and the layout they share."""
