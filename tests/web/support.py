"""Reading the survey pages as a browser would: the form's hidden fields and action."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse


@dataclass
class Form:
    action: str
    fields: dict[str, str]

    def submit(self, client: FlaskClient, **values: Any) -> TestResponse:
        data: dict[str, Any] = {**self.fields, "action": "next", **values}
        return client.post(self.action, data=data)


def page_form(response: TestResponse) -> Form:
    html = response.get_data(as_text=True)
    action = re.search(r'<form[^>]*method="post" action="([^"]+)"', html)
    assert action is not None, f"no form on the page:\n{html[:2000]}"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    return Form(action=action.group(1), fields=fields)


def checked(response: TestResponse) -> list[str]:
    """The values of the choices selected on the page, as a browser would submit them."""
    inputs = re.findall(r'<input [^>]*name="answer" value="([^"]*)"( checked)?>', text(response))
    return [value for value, on in inputs if on]


def follow(client: FlaskClient, response: TestResponse) -> TestResponse:
    """Follow redirects as a browser does after a POST (303 -> GET)."""
    while response.status_code in (301, 302, 303):
        response = client.get(response.headers["Location"])
    return response


def start_public(client: FlaskClient, flow: str = "office-visit", **query: str) -> TestResponse:
    params = {"location": "downtown", **query}
    qs = "&".join(f"{k}={v}" for k, v in params.items())
    return follow(client, client.get(f"/f/{flow}?{qs}"))


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)
