"""The client's errors: one for what the server refused, one for what it cannot do."""

from __future__ import annotations

from typing import Any


class FlywheelError(Exception):
    """Base class of the client's errors."""


class ApiError(FlywheelError):
    """A response with a 4xx/5xx status, in the API's one error shape (``flywheel.errors``):
    ``detail`` (a sentence), ``code`` and ``errors``, a field path → messages map such as
    ``{"rows[3].messages[1].role": ["…"]}``; empty when no field is to blame."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str = "",
        errors: dict[str, list[str]] | None = None,
        method: str = "",
        url: str = "",
    ) -> None:
        self.status = status
        self.detail = detail
        self.code = code
        self.errors = dict(errors or {})
        self.method = method
        self.url = url
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" ({self.method} {self.url})" if self.method else ""
        lines = [f"{self.status} {self.code or 'error'}: {self.detail}{where}"]
        lines += [f"  {field}: {'; '.join(msgs)}" for field, msgs in self.errors.items()]
        return "\n".join(lines)

    @classmethod
    def from_body(cls, status: int, body: Any, text: str, *, method: str, url: str) -> ApiError:
        """From a decoded JSON body when it has the API's shape; else from the raw text (a
        proxy's HTML 502, say), cut short."""
        if isinstance(body, dict) and "detail" in body:
            errors = body.get("errors") if isinstance(body.get("errors"), dict) else {}
            return cls(
                status,
                str(body["detail"]),
                code=str(body.get("code", "")),
                errors={str(k): [str(m) for m in v] for k, v in errors.items()},
                method=method,
                url=url,
            )
        return cls(status, text.strip()[:500] or "(empty body)", method=method, url=url)


class RunFailed(FlywheelError):
    """A followed training run ended ``failed`` or ``cancelled``; ``run`` is its last state."""

    def __init__(self, run: dict[str, Any]) -> None:
        self.run = run
        error = (run.get("error") or "").strip().splitlines()
        reason = f": {error[-1]}" if error else ""
        super().__init__(f"training run {run['id']} {run['status']}{reason}")


class DownloadUnavailable(FlywheelError):
    """The model version's weights cannot be fetched from here (see ``Client.download_model``)."""
