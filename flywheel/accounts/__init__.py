"""Account security (issue 18, item 5): API tokens hashed at rest, several per user, each with a
name, an expiry and a last-used time; every token and session of a user revoked when the
password changes or the account is deactivated; a Django admin for users in which a staff
account cannot raise anyone's privileges.

It lives in the project package, beside ``flywheel.authentication`` which reads the tokens,
because authentication sits below every app (pyproject.toml's layers): the apps' views call
these services, this package imports none of them."""
