"""Lantern's Discord kit: everything Discord-specific that is not a command.

Error codes, the messenger (escaping and fitting Discord's limits), channel and overwrite
making, component rendering and the persistent-button base, and the one error boundary. It
implements the ports that ``bot.services`` declares; it never touches the database.
"""
