"""Key status: the hotline's and the window's view of every key."""
