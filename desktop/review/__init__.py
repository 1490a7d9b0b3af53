"""The review window: timeline, playback, bookmarks, evidence holds and exports (issue 14)."""
