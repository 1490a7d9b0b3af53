"""Video analytics: staff-seat occupancy (离岗检测) from the window cameras.

:mod:`video.analytics.occupancy` judges seat regions on pictures (pure, no threads);
:mod:`video.analytics.consumer` runs it as a fan-out consumer of a :class:`~video.source.Source`
at about one picture a second; :mod:`video.analytics.scan` runs it over a file or URL for the
``seats`` command; :mod:`video.analytics.scoring` scores found spells against a script's truth.
Nothing here imports Qt.
"""

from video.analytics.occupancy import OccupancyDetector, SeatEvent, SeatRegion, SeatState, Tuning

__all__ = ["OccupancyDetector", "SeatEvent", "SeatRegion", "SeatState", "Tuning"]
