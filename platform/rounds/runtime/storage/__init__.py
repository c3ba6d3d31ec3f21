"""Stored files (photos), behind one interface: a local folder by default."""
