"""The review window (issue 14): the timeline, the players, bookmarks, holds and evidence export."""
