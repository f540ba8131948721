"""A phone call as Twilio places it: signed webhooks in, TwiML out, followed verb by verb.

The simulator posts what Twilio posts (``CallSid``, ``From``, ``To``, ``AccountSid``,
``Digits``, ``RecordingUrl`` ...) with an ``X-Twilio-Signature`` computed by the helper
library's :class:`RequestValidator`, parses each TwiML answer with ``xml.etree``, keeps what
the caller heard, and follows ``<Gather action>``, ``<Record action>`` and ``<Redirect>``
the way Twilio does:

- keys pressed at a ``<Gather>`` post its action with ``Digits`` (one key when
  ``numDigits="1"``; keys up to the ``finishOnKey`` otherwise); no keys, or the finish key
  alone, fall through to the next verb, usually a ``<Redirect>``;
- a recording posts the ``<Record>`` action; silence falls through to the next verb;
- ``<Hangup/>`` (or the end of the document) ends the call, and the status callback hears
  ``completed``.

It talks through a *transport*: the Flask test client in tests, HTTP in benchmarks.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from twilio.request_validator import RequestValidator

#: post(url, form, headers) -> (status code, body)
Transport = Callable[[str, Mapping[str, str], Mapping[str, str]], tuple[int, str]]


def flask_transport(client: object) -> Transport:
    """Post through a Flask test client; the URL's origin is dropped, its path kept."""

    def post(url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> tuple[int, str]:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        response = client.post(target, data=dict(form), headers=dict(headers))  # type: ignore[attr-defined]
        return response.status_code, response.get_data(as_text=True)

    return post


class CallEnded(Exception):
    """The caller did something on a call that is over."""


@dataclass
class Waiting:
    """What the call waits for after the last TwiML: a Gather or a Record, or nothing."""

    verb: str  # "Gather", "Record" or "" when the call has ended
    action: str = ""
    num_digits: int | None = None
    finish_on_key: str = "#"
    attributes: dict[str, str] = field(default_factory=dict)
    rest: list[ET.Element] = field(default_factory=list)  # the verbs after it


@dataclass
class SimulatedCall:
    """One call. Build it with :meth:`CallSimulator.dial` or :meth:`CallSimulator.answer`."""

    simulator: CallSimulator
    sid: str
    from_number: str
    to_number: str
    transcript: list[str] = field(default_factory=list)
    heard: list[str] = field(default_factory=list)
    says: list[dict[str, str]] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    waiting: Waiting = field(default_factory=lambda: Waiting(""))
    last_status: int = 0
    last_url: str = ""
    ended: bool = False
    hung_up: bool = False

    # --- what the caller does ------------------------------------------------------

    def press(self, keys: str) -> SimulatedCall:
        """Press ``keys`` at the current Gather, as one answer."""
        self._note(f"[caller presses {keys}]")
        gather = self._expect("Gather")
        digits = keys
        if gather.num_digits is not None:
            digits = keys[: gather.num_digits]
        for i, key in enumerate(digits):
            if key in gather.finish_on_key:
                digits = digits[:i]
                break
        if not digits:
            return self._fall_through()
        return self._post(gather.action, {"Digits": digits})

    def silence(self) -> SimulatedCall:
        """Say and press nothing until the Gather or Record times out."""
        self._note("[caller is silent]")
        self._expect("Gather", "Record")
        return self._fall_through()

    def record(
        self, url: str | None = None, duration: int = 5, finish_key: str = "#"
    ) -> SimulatedCall:
        """Speak an answer at the current Record; ``url`` None posts an empty recording."""
        record = self._expect("Record")
        self._note(f"[caller speaks for {duration} s]" if url else "[caller records nothing]")
        form = {"RecordingDuration": str(duration), "Digits": finish_key}
        if url:
            form["RecordingUrl"] = url
            form["RecordingSid"] = "RE" + secrets.token_hex(16)
        return self._post(record.action, form)

    def hang_up(self) -> SimulatedCall:
        """Hang up now; the status callback hears ``completed``."""
        self._note("[caller hangs up]")
        self.hung_up = True
        self._finish()
        return self

    def hang_up_while_recording(self, url: str, duration: int = 5) -> SimulatedCall:
        """Hang up during a Record: Twilio still posts the recording (``Digits=hangup``)."""
        record = self._expect("Record")
        self._note(f"[caller speaks for {duration} s and hangs up]")
        self.hung_up = True
        self._post(
            record.action,
            {"RecordingUrl": url, "RecordingDuration": str(duration), "Digits": "hangup"},
            follow=False,
        )
        self._finish()
        return self

    def repost(self, url: str, form: Mapping[str, str]) -> tuple[int, str]:
        """Post ``form`` to ``url`` again, as a Twilio retry does; the call does not move."""
        return self.simulator.post(url, {**self.simulator.call_params(self), **form})

    # --- inside ---------------------------------------------------------------------

    def _note(self, line: str) -> None:
        self.transcript.append(line)

    def _expect(self, *verbs: str) -> Waiting:
        if self.ended:
            raise CallEnded(f"the call has ended; it was waiting for {verbs}")
        if self.waiting.verb not in verbs:
            raise AssertionError(f"the call waits for {self.waiting.verb!r}, not {verbs}")
        return self.waiting

    def _fall_through(self) -> SimulatedCall:
        rest = self.waiting.rest
        self.waiting = Waiting("")
        self._run(rest)
        return self

    def _post(self, url: str, form: Mapping[str, str], *, follow: bool = True) -> SimulatedCall:
        url = urljoin(self.last_url, url) if self.last_url else url
        status, body = self.simulator.post(url, {**self.simulator.call_params(self), **form})
        self.last_status = status
        self.last_url = url
        self.documents.append(body)
        if status != 200:
            raise AssertionError(f"POST {url} answered {status}: {body}")
        if follow:
            self.waiting = Waiting("")
            self._run(list(ET.fromstring(body)))
        return self

    def _run(self, verbs: list[ET.Element]) -> None:
        for i, verb in enumerate(verbs):
            if verb.tag == "Say":
                self._say(verb)
            elif verb.tag == "Pause":
                continue
            elif verb.tag == "Gather":
                for child in verb:
                    if child.tag == "Say":
                        self._say(child)
                num = verb.get("numDigits")
                self.waiting = Waiting(
                    "Gather",
                    action=verb.get("action") or self.last_url,
                    num_digits=int(num) if num else None,
                    finish_on_key=verb.get("finishOnKey", "#"),
                    attributes=dict(verb.attrib),
                    rest=verbs[i + 1 :],
                )
                return
            elif verb.tag == "Record":
                if verb.get("playBeep", "true") == "true":
                    self._note("[beep]")
                self.waiting = Waiting(
                    "Record",
                    action=verb.get("action") or self.last_url,
                    finish_on_key=verb.get("finishOnKey", "1234567890*#"),
                    attributes=dict(verb.attrib),
                    rest=verbs[i + 1 :],
                )
                return
            elif verb.tag == "Redirect":
                self._post(verb.text or "", {})
                return
            elif verb.tag == "Hangup":
                self._finish()
                return
            else:
                raise AssertionError(f"the simulator does not know <{verb.tag}>")
        self._finish()

    def _say(self, verb: ET.Element) -> None:
        text = verb.text or ""
        self.heard.append(text)
        self.says.append({"text": text, **verb.attrib})
        self._note(text)

    def _finish(self) -> None:
        if self.ended:
            return
        self.ended = True
        self.waiting = Waiting("")
        self.simulator.post_status(self, "completed")


class CallSimulator:
    """Places simulated calls against the gateway, signing every request as Twilio does."""

    def __init__(
        self,
        transport: Transport,
        *,
        auth_token: str,
        base_url: str,
        account_sid: str = "AC" + "0" * 32,
        gateway_number: str = "+12025550100",
    ) -> None:
        self.transport = transport
        self.validator = RequestValidator(auth_token)
        self.base_url = base_url.rstrip("/")
        self.account_sid = account_sid
        self.gateway_number = gateway_number
        self.status_url = self.base_url + "/twilio/voice/status"

    def url(self, path: str) -> str:
        return self.base_url + path

    def post(self, url: str, form: Mapping[str, str]) -> tuple[int, str]:
        signature = self.validator.compute_signature(url, dict(form))
        return self.transport(url, form, {"X-Twilio-Signature": signature})

    def call_params(self, call: SimulatedCall) -> dict[str, str]:
        return {
            "CallSid": call.sid,
            "AccountSid": self.account_sid,
            "From": call.from_number,
            "To": call.to_number,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }

    def dial(self, path: str, *, caller: str = "+12025550123") -> SimulatedCall:
        """An inbound call from ``caller`` to a number whose voice URL is ``path``."""
        call = SimulatedCall(self, "CA" + secrets.token_hex(16), caller, self.gateway_number)
        call._note(f"[{caller} calls]")
        return call._post(self.url(path), {"CallStatus": "ringing"})

    def answer(self, url: str, *, to: str, sid: str, answered_by: str = "human") -> SimulatedCall:
        """The gateway's outbound call ``sid`` to ``to`` is answered (``AnsweredBy``)."""
        call = SimulatedCall(self, sid, self.gateway_number, to)
        call._note(f"[{to} answers]")
        return call._post(url, {"AnsweredBy": answered_by, "Direction": "outbound-api"})

    def post_status(self, call: SimulatedCall, status: str, **extra: str) -> tuple[int, str]:
        """Post the call status callback (``completed``, ``busy``, ``no-answer`` ...)."""
        form = {**self.call_params(call), "CallStatus": status, **extra}
        return self.post(self.status_url, form)

    def status_of(self, sid: str, status: str, *, to: str, **extra: str) -> tuple[int, str]:
        """Post a status callback for an outbound call that was never answered."""
        call = SimulatedCall(self, sid, self.gateway_number, to)
        return self.post_status(call, status, **extra)
