"""Pure decisions: no Discord, no SQL, no scheduler. Easy to test, easy to reason about."""
