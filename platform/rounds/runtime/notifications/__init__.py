"""Notifications: an inbox per user, pushed live to open pages (Server-Sent Events)."""
