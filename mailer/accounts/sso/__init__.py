"""Single sign-on with the office's OpenID Connect provider: the conversation with it
(``oidc_protocol``: discovery, the code flow with PKCE, the ID token), who may sign in
and as what (``oidc``: groups to roles, matching and creating users) and its pages."""
