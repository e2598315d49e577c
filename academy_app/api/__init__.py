"""HTTP routes beside Reflex's own: files that need a permission check before they are served."""
