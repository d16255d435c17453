"""Lantern: a Discord bot that runs a mentorship program for mixed Asian heritage adults."""
