"""Student pages: one module per page, each a small tree of functions that reads like the screen."""
