"""Outbound webhooks (事件推送): integrators such as the 12345 hotline hear what became of a
case without asking.

A change writes its event to an outbox table in the change's own transaction
(``outbox.emit``); ``flask deliver-webhooks`` posts each due delivery, signed with the
subscriber's secret, and retries with back-off until a 2xx answer (``delivery``). An
administrator registers the subscribers on an admin page (``views``, ``operations``).

The outbox sits below the domains that emit events (cases, sessions, agreements): it reads
the objects it is given and imports nothing of theirs but the table of case states.
"""
