import pytest

from mailer.web.redirects import safe_admin_path


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/admin/users/", "/admin/users/"),
        ("/admin/audit/?page=2", "/admin/audit/?page=2"),
        ("/admin", "/admin"),
        ("/admin/x#frag", "/admin/x"),
        ("https://evil.example.net/admin/", None),
        ("//evil.example.net/admin/", None),
        ("/\\evil.example.net", None),
        ("\\\\evil.example.net/admin/", None),
        ("/admin/\r\nSet-Cookie: x=1", None),
        ("javascript:alert(1)", None),
        ("/login", None),
        ("/administrator", None),
        ("", None),
        (None, None),
    ],
)
def test_only_our_own_admin_paths_are_accepted(target, expected) -> None:
    assert safe_admin_path(target) == expected
