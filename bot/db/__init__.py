"""Lantern's persistence: the engine, SQLModel tables, query functions and migrations."""
