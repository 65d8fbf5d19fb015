"""FastAPI service: recommendations, search, shared encoders, events, web page."""
