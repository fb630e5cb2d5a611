"""Second factors: what a user has (``factors``), authenticator apps (``totp``, their
keys sealed by ``sealing``), recovery codes, passkeys (``passkeys``, and signing in with
one, ``passkey_sign_in``), reading the answer to the second step (``code_answers``), the
rule for adding one (``adding_factors``) and an admin's reset (``factor_reset``), with
the pages for each (``*_views``). Who must use one is ``mailer.accounts.policy``."""
