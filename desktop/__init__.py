"""Everything Qt: the windows of each role (operator, leader, review), widgets, item models,
theming and the glue to translations. The only package that imports PySide6."""
