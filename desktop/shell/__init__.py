"""Parts of the desktop shell shared by the roles: the camera tree, the status bar, the footage
player, dialogs and background tasks."""
