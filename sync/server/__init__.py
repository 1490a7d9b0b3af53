"""The reference central supervision server (FastAPI) and its hall traffic simulator."""
