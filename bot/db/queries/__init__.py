"""Query functions: the session first, keyword-only arguments after it."""
