"""The one masking function: secrets and URL credentials never survive into shown text."""

import pytest

from vigil.masking import mask_text, mask_url

SLACK = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX"


@pytest.mark.parametrize(("text", "secrets", "expected"), [
    (f"ClientResponseError: 400, url='{SLACK}'", [SLACK], "ClientResponseError: 400, url='https://hooks.slack.com/****'"),
    ("POST /services/T000/B000/XXXXSECRETXXXX failed", [SLACK], "POST /**** failed"),
    ("cannot reach https://bob:hunter22@hooks.example.com/x", [], "cannot reach https://****@hooks.example.com/x"),
    ("signature whsec-0123456789abcdef rejected", ["whsec-0123456789abcdef"], "signature **** rejected"),
    ("nothing secret here", [SLACK, None, ""], "nothing secret here"),
])
def test_mask_text_hides_every_form_of_a_secret(text, secrets, expected):
    assert mask_text(text, secrets) == expected


@pytest.mark.parametrize(("url", "secret_path", "expected"), [
    ("https://a:b@h.example.com:8443/p?q=1", False, "https://****@h.example.com:8443/p?q=1"),
    ("https://h.example.com/p", False, "https://h.example.com/p"),
    (SLACK, True, "https://hooks.slack.com/****"),
])
def test_mask_url(url, secret_path, expected):
    assert mask_url(url, secret_path=secret_path) == expected
