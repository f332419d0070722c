"""Container health check of the web process: GET /healthz over loopback (stdlib only).

Asks as the first host of ALLOWED_HOSTS (Django refuses other Host headers); /healthz is exempt
from the HTTPS redirect. Exit 0 when it answers 200, 1 otherwise (503 names the failing part).

    python scripts/healthcheck.py [http://127.0.0.1:8000/healthz]
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def host() -> str:
    first = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip()
    return first.lstrip(".").replace("*", "") or "localhost"


def main(url: str) -> int:
    if not url.startswith("http://127.0.0.1:") and not url.startswith("http://[::1]:"):
        print("health checks ask over loopback only", file=sys.stderr)
        return 2
    request = urllib.request.Request(url, headers={"Host": host()})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            print(response.read().decode())
            return 0 if response.status == 200 else 1
    except urllib.error.HTTPError as error:
        print(error.read().decode(), file=sys.stderr)
        return 1
    except OSError as error:
        print(f"unreachable: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/healthz"))
